/* blis_setup.c — BLIS initialisation: which kernel set BLIS runs, chosen once before BLIS
 * initialises, and a description of the choice for nb_config_string.
 *
 * BLIS 0.9.x picks its kernel set from cpuid (frame/base/bli_cpuid.c): Intel CPUs by their
 * features, AMD ones by family (0x15, 0x17, 0x19). Every other CPU, AMD Zen 5 (family 0x1a)
 * included, silently gets the generic kernels, several times slower. The environment variable
 * BLIS_ARCH_TYPE overrides the choice: in 0.9 it holds the numeric arch_t id (a name is read as
 * 0, skx), it is read once when BLIS initialises, and an id whose kernels are not built in (knl,
 * knc, the ARM and POWER ids on x86) makes BLIS abort the process.
 *
 * The rule, unless the user set BLIS_ARCH_TYPE: keep BLIS's own choice, except where BLIS 0.9
 * would fall back to the generic kernels on a CPU with AVX; then ask for
 *   skx      when the CPU has AVX-512 (F, DQ, BW, VL),
 *   zen3     on other AMD CPUs with AVX2 and FMA (haswell on other vendors),
 *   sandybridge with AVX only.
 *
 * Measurements behind it: 1024^3 sgemm, best of 6 after a warm-up, BLIS 0.9.0, BLIS_ARCH_TYPE
 * set to each id in turn. Build machine, AMD EPYC family 0x19 model 0x11 (Zen 4, AVX-512
 * executed as two 256-bit halves), for which BLIS picks zen3 by itself:
 *     kernels        1 thread       2 threads
 *     zen3 (BLIS's)  104-106        210 GFLOP/s
 *     haswell        105-106        202-211
 *     skx            101-103        179-199
 *     sandybridge     65
 *     generic         35             70
 * so on Zen 4 BLIS's zen3 stays. On Zen 5 (full-width AVX-512 units; DESIGN.md, "CPU backend")
 * BLIS falls back to generic: 40 GFLOP/s on one core against 208 with skx, which is more than
 * AVX2 kernels can reach there (two 256-bit FMAs per cycle), hence skx for AVX-512 CPUs that
 * BLIS does not know. Intel CPUs are left to BLIS: it counts their 512-bit FMA units (skx with
 * two, haswell with one), which nabla cannot do better. */
#include "blis_setup.h"


#include <blis.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum choice_source {
    CHOSEN_BY_BLIS,  /* BLIS's own choice, untouched */
    CHOSEN_BY_NABLA, /* nabla set BLIS_ARCH_TYPE because BLIS would fall back to generic */
    CHOSEN_BY_USER,  /* the user's BLIS_ARCH_TYPE (a name is translated to its id) */
    USER_REFUSED,    /* the user's BLIS_ARCH_TYPE would abort BLIS; nabla chose instead */
} choice_source;

static struct {
    choice_source source;
    arch_t wanted;         /* the set nabla asked for (CHOSEN_BY_NABLA, USER_REFUSED) */
    arch_t blis_own;       /* what this BLIS picks by itself (CHOSEN_BY_NABLA) */
    char user_value[40];   /* the user's BLIS_ARCH_TYPE, as given */
} setup;

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static bool is_blis_0_9(void) { return strncmp(bli_info_get_version_str(), "0.9.", 4) == 0; }

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* The kernel sets an x86 build of BLIS 0.9 has (it lists knl, but selecting it aborts). */
static const arch_t usable_sets[] = {
    BLIS_ARCH_SKX,       BLIS_ARCH_HASWELL,     BLIS_ARCH_SANDYBRIDGE, BLIS_ARCH_PENRYN,
    BLIS_ARCH_ZEN3,      BLIS_ARCH_ZEN2,        BLIS_ARCH_ZEN,         BLIS_ARCH_EXCAVATOR,
    BLIS_ARCH_STEAMROLLER, BLIS_ARCH_PILEDRIVER, BLIS_ARCH_BULLDOZER,  BLIS_ARCH_GENERIC,
};
#define N_USABLE_SETS (sizeof usable_sets / sizeof usable_sets[0])

typedef struct cpu_facts {
    bool intel, amd;
    unsigned family, model; /* displayed family and model, computed as BLIS does */
    bool ssse3, avx, fma, fma4, avx2, avx512; /* avx512: F, DQ, BW and VL, enabled by the OS */
} cpu_facts;

static cpu_facts read_cpu(void)
{
    cpu_facts c = {0};
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return c;
    char vendor[13];
    memcpy(vendor, &ebx, 4);
    memcpy(vendor + 4, &edx, 4);
    memcpy(vendor + 8, &ecx, 4);
    vendor[12] = '\0';
    c.intel = strcmp(vendor, "GenuineIntel") == 0;
    c.amd = strcmp(vendor, "AuthenticAMD") == 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        unsigned model = (eax >> 4) & 0xf, family = (eax >> 8) & 0xf;
        unsigned ext_model = (eax >> 16) & 0xf, ext_family = (eax >> 20) & 0xff;
        c.family = family == 0xf ? family + ext_family : family;
        c.model = family == 0xf || family == 0x6 ? model + (ext_model << 4) : model;
    }
    if (__get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx)) c.fma4 = (ecx >> 16) & 1;
    __builtin_cpu_init();
    c.ssse3 = __builtin_cpu_supports("ssse3");
    c.avx = __builtin_cpu_supports("avx");
    c.fma = __builtin_cpu_supports("fma");
    c.avx2 = __builtin_cpu_supports("avx2");
    c.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    return c;
}

/* What BLIS 0.9's bli_cpuid_query_id picks (not exported, so restated here). For Intel the
 * answer may be skx instead of haswell; only "generic or not" matters to the rule. */
static arch_t blis09_own_choice(const cpu_facts *c)
{
    bool avx2_fma = c->avx && c->fma && c->avx2;
    if (c->intel) {
        if (avx2_fma) return BLIS_ARCH_HASWELL;
        if (c->avx) return BLIS_ARCH_SANDYBRIDGE;
        return c->ssse3 ? BLIS_ARCH_PENRYN : BLIS_ARCH_GENERIC;
    }
    if (!c->amd) return BLIS_ARCH_GENERIC;
    if (avx2_fma && c->family == 0x19) return BLIS_ARCH_ZEN3;
    if (avx2_fma && c->family == 0x17) return c->model >= 0x30 ? BLIS_ARCH_ZEN2 : BLIS_ARCH_ZEN;
    if (c->family == 0x15) {
        if (avx2_fma && c->model >= 0x60 && c->model <= 0x7f) return BLIS_ARCH_EXCAVATOR;
        if (c->avx && c->fma && c->fma4 && c->model >= 0x30 && c->model <= 0x3f) return BLIS_ARCH_STEAMROLLER;
        if (c->avx && c->fma && c->fma4 && (c->model == 0x02 || (c->model >= 0x10 && c->model <= 0x1f)))
            return BLIS_ARCH_PILEDRIVER;
        if (c->avx && c->fma4 && c->model <= 0x01) return BLIS_ARCH_BULLDOZER;
    }
    return BLIS_ARCH_GENERIC;
}

/* The best built-in set for a CPU that BLIS 0.9 would give the generic kernels (see the top). */
static arch_t best_for_unknown_cpu(const cpu_facts *c)
{
    if (c->avx512) return BLIS_ARCH_SKX;
    if (c->avx && c->fma && c->avx2) return c->amd ? BLIS_ARCH_ZEN3 : BLIS_ARCH_HASWELL;
    if (c->avx) return BLIS_ARCH_SANDYBRIDGE;
    return BLIS_ARCH_GENERIC;
}

/* The user's BLIS_ARCH_TYPE as a usable id: a number, or a kernel-set name ("skx"). */
static bool parse_user_choice(const char *v, arch_t *id)
{
    char *end;
    long n = strtol(v, &end, 10);
    bool numeric = end != v && *end == '\0';
    for (size_t i = 0; i < N_USABLE_SETS; i++) {
        arch_t a = usable_sets[i];
        if (numeric ? n == (long)a : strcasecmp(v, bli_arch_string(a)) == 0) {
            *id = a;
            return true;
        }
    }
    return false;
}

/* BLIS's own choice for this CPU, and the set nabla wants instead (the same when BLIS's is fine). */
static void nabla_choice(arch_t *own, arch_t *wanted)
{
    cpu_facts c = read_cpu();
    *own = blis09_own_choice(&c);
    *wanted = *own == BLIS_ARCH_GENERIC ? best_for_unknown_cpu(&c) : *own;
}

#else /* not x86: BLIS's own choice, or the user's as given */

static bool parse_user_choice(const char *v, arch_t *id)
{
    char *end;
    long n = strtol(v, &end, 10);
    *id = (arch_t)n;
    return end != v && *end == '\0' && n >= 0 && n < BLIS_NUM_ARCHS;
}

static void nabla_choice(arch_t *own, arch_t *wanted) { *own = *wanted = BLIS_ARCH_GENERIC; }

#endif

static void set_arch_env(arch_t id)
{
    char num[16];
    snprintf(num, sizeof num, "%d", (int)id);
    setenv("BLIS_ARCH_TYPE", num, 1);
}

static void choose_kernel_set(void)
{
    const char *user = getenv("BLIS_ARCH_TYPE");
    bool given = user && *user && strcmp(user, "-1") != 0; /* -1 is BLIS's "not set" */
    setup.source = given ? CHOSEN_BY_USER : CHOSEN_BY_BLIS;
    if (!is_blis_0_9()) return; /* later versions know later CPUs and read names themselves */
    if (given) {
        snprintf(setup.user_value, sizeof setup.user_value, "%s", user);
        arch_t id;
        if (parse_user_choice(user, &id)) {
            set_arch_env(id); /* a name becomes its id, which is what 0.9 reads */
            return;
        }
    }
    arch_t own, wanted;
    nabla_choice(&own, &wanted);
    if (given) { /* a value that would make BLIS abort */
        setup.source = USER_REFUSED;
        setup.wanted = wanted;
        set_arch_env(wanted);
        return;
    }
    if (user) unsetenv("BLIS_ARCH_TYPE"); /* "" would be read as 0 (skx) */
    if (wanted == own) return;
    setup.source = CHOSEN_BY_NABLA;
    setup.wanted = wanted;
    setup.blis_own = own;
    set_arch_env(wanted);
}

static void init_once(void)
{
    choose_kernel_set();
    bli_init();
}

void nbk_blis_init(void) { pthread_once(&setup_once, init_once); }

void nbk_blis_describe(char *buf, size_t size)
{
    nbk_blis_init();
    arch_t used = bli_arch_query_id();
    char why[160];
    switch (setup.source) {
    case CHOSEN_BY_NABLA:
        if (used == setup.wanted)
            snprintf(why, sizeof why, "chosen by nabla: this BLIS picks %s for this CPU",
                     bli_arch_string(setup.blis_own));
        else /* BLIS was initialised by someone else before nabla could choose */
            snprintf(why, sizeof why, "chosen by BLIS; nabla wanted %s, but BLIS had already started",
                     bli_arch_string(setup.wanted));
        break;
    case CHOSEN_BY_USER:
        snprintf(why, sizeof why, "BLIS_ARCH_TYPE set by the user");
        break;
    case USER_REFUSED:
        snprintf(why, sizeof why, "chosen by nabla: BLIS_ARCH_TYPE=%s names no kernel set built into this BLIS",
                 setup.user_value);
        break;
    default:
        snprintf(why, sizeof why, "chosen by BLIS");
        break;
    }
    snprintf(buf, size, "BLIS %s, kernels %s (%s)", bli_info_get_version_str(), bli_arch_string(used), why);
}
