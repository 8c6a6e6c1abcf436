/* safetensors_format.c — the parts of the safetensors format that reading and writing share:
 * its dtype names, and the UTF-8 check that names, keys and the whole header must pass. */
#include "safetensors.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    nb_dtype dtype;
} st_dtypes[] = {
    {"F32", NB_FLOAT32},
    {"F64", NB_FLOAT64},
    {"I64", NB_INT64},
    {"BOOL", NB_BOOL},
    {"F16", NB_FLOAT16},
    {"BF16", NB_BFLOAT16},
};

/* dtypes of the format nabla has no column for, so the message can say which they are */
static const char *const st_other[] = {"F8_E4M3", "F8_E5M2", "I8", "I16", "I32", "U8", "U16", "U32", "U64"};

const char *nb__st_dtype_name(nb_dtype dtype)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].dtype == dtype) return st_dtypes[i].name;
    return NULL;
}

bool nb__st_dtype_parse(const char *name, nb_dtype *dtype, char *why, size_t why_size)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(st_dtypes[i].name, name) == 0) {
            *dtype = st_dtypes[i].dtype;
            return true;
        }
    for (size_t i = 0; i < sizeof st_other / sizeof st_other[0]; i++)
        if (strcmp(st_other[i], name) == 0) {
            snprintf(why, why_size, "dtype %s is not supported; expected " ST_SUPPORTED, name);
            return false;
        }
    snprintf(why, why_size, "unknown dtype '%.40s'; expected " ST_SUPPORTED, name);
    return false;
}

bool nb__utf8_valid(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned min, cp;
        if ((c & 0xe0) == 0xc0) len = 2, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) len = 3, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) len = 4, min = 0x10000, cp = c & 0x07;
        else return false; /* a continuation byte first, or 0xf8.. */
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}
