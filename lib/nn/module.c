/* module.c — named module trees (nb_module), PyTorch's nn.Module bookkeeping in plain C: a module
 * has a type, parameters and buffers under names, children under names, and the training flags of
 * the layers it holds. Walking the tree gives parameter lists with full dotted names in PyTorch's
 * order (named_parameters, named_buffers, state_dict), and one call switches every flag below a
 * module (train / eval). The layers themselves stay plain structs with their own forward; a module
 * only names their tensors (retaining them) and reaches their flags. */
#include "../error.h"
#include "../tensor.h"
#include "layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODULE_NAME_MAX 63     /* bytes in one name of a module's entry */
#define NB_MODULE_PATH_MAX 255 /* bytes in a full dotted name (as a parameter list's names) */

typedef enum entry_kind { ENTRY_PARAMETER, ENTRY_BUFFER, ENTRY_CHILD } entry_kind;

/* One named thing a module holds, in the order it was added. */
typedef struct module_entry {
    entry_kind kind;
    char name[MODULE_NAME_MAX + 1];
    nb_tensor *tensor; /* parameters and buffers: retained */
    nb_module *child;  /* children: owned */
} module_entry;

struct nb_module {
    char type[MODULE_NAME_MAX + 1];
    module_entry *entries; /* (count,) */
    int count, cap;
    bool **flags; /* (nflags,) the training flags of the layers registered here */
    int nflags, flags_cap;
    bool training;
    bool has_parent;
};

nb_module *nb_module_new(const char *type)
{
    const char *op = "nb_module_new";
    if (nb__is_null(op, "type", type)) return NULL;
    if (strlen(type) > MODULE_NAME_MAX)
        return nb__fail(NB_ERR_ARGUMENT, "%s: a module's type has at most %d bytes, got %zu", op, MODULE_NAME_MAX,
                        strlen(type));
    nb_module *m = calloc(1, sizeof *m);
    if (!m) return nb__fail(NB_ERR_MEMORY, "%s: out of memory", op);
    strcpy(m->type, type);
    m->training = true;
    return m;
}

void nb_module_free(nb_module *m)
{
    /* a worklist rather than recursion: a deep tree must not overflow the stack */
    nb_module **todo = NULL;
    int n = 0, cap = 0;
    while (m) {
        for (int i = 0; i < m->count; i++) {
            module_entry *e = &m->entries[i];
            if (e->tensor) nb__release_ref(e->tensor);
            if (!e->child) continue;
            if (n == cap) {
                int grown = cap ? cap * 2 : 16;
                nb_module **t = realloc(todo, (size_t)grown * sizeof *t);
                if (!t) { /* no room to defer: free this subtree now (rare, and bounded by the depth) */
                    e->child->has_parent = false;
                    nb_module_free(e->child);
                    continue;
                }
                todo = t;
                cap = grown;
            }
            todo[n++] = e->child;
        }
        free(m->entries);
        free(m->flags);
        free(m);
        m = n > 0 ? todo[--n] : NULL;
    }
    free(todo);
}

/* A name fit for an entry of m: non-empty, short, without '.', not yet used there. */
static bool check_name(const char *op, const nb_module *m, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > MODULE_NAME_MAX)
        return nb__fail(NB_ERR_ARGUMENT, "%s: a name must have 1 to %d bytes, got %zu", op, MODULE_NAME_MAX, len),
               false;
    if (strchr(name, '.'))
        return nb__fail(NB_ERR_ARGUMENT, "%s: the name \"%s\" contains '.', which separates the parts of a full name",
                        op, name),
               false;
    static const char *const kinds[] = {"parameter", "buffer", "child"};
    for (int i = 0; i < m->count; i++)
        if (strcmp(m->entries[i].name, name) == 0)
            return nb__fail(NB_ERR_ARGUMENT, "%s: the %s module already has a %s named \"%s\"", op, m->type,
                            kinds[m->entries[i].kind], name),
                   false;
    return true;
}

static module_entry *append(const char *op, nb_module *m, entry_kind kind, const char *name)
{
    if (m->count == m->cap) {
        int cap = m->cap ? m->cap * 2 : 4;
        module_entry *e = realloc(m->entries, (size_t)cap * sizeof *e);
        if (!e) return nb__fail(NB_ERR_MEMORY, "%s: out of memory growing the %s module to %d entries", op, m->type, cap);
        m->entries = e;
        m->cap = cap;
    }
    module_entry *e = &m->entries[m->count++];
    *e = (module_entry){.kind = kind};
    strcpy(e->name, name);
    return e;
}

static nb_status add_tensor(const char *op, nb_module *m, const char *name, nb_tensor *t, entry_kind kind)
{
    if (nb__is_null(op, "module", m) || nb__is_null(op, "name", name) || nb__is_null(op, "tensor", t))
        return NB_ERR_NULL;
    if (!check_name(op, m, name)) return nb_last_status();
    module_entry *e = append(op, m, kind, name);
    if (!e) return nb_last_status();
    e->tensor = nb__retain_ref(t); /* the module's own, never a scope's */
    return NB_OK;
}

nb_status nb_module_add_parameter(nb_module *m, const char *name, nb_tensor *t)
{
    return add_tensor("nb_module_add_parameter", m, name, t, ENTRY_PARAMETER);
}

nb_status nb_module_add_buffer(nb_module *m, const char *name, nb_tensor *t)
{
    return add_tensor("nb_module_add_buffer", m, name, t, ENTRY_BUFFER);
}

/* Whether a is b or lies under b. */
static bool is_within(const nb_module *a, const nb_module *b)
{
    if (a == b) return true;
    for (int i = 0; i < b->count; i++)
        if (b->entries[i].child && is_within(a, b->entries[i].child)) return true;
    return false;
}

/* Sets the mode of m and everything under it (a worklist, as nb_module_free). */
static bool set_mode(nb_module *m, bool training)
{
    nb_module **todo = NULL;
    int n = 0, cap = 0;
    bool ok = true;
    while (m) {
        m->training = training;
        for (int i = 0; i < m->nflags; i++) *m->flags[i] = training;
        for (int i = 0; i < m->count; i++) {
            if (!m->entries[i].child) continue;
            if (n == cap) {
                int grown = cap ? cap * 2 : 16;
                nb_module **t = realloc(todo, (size_t)grown * sizeof *t);
                if (!t) {
                    ok = set_mode(m->entries[i].child, training) && ok;
                    continue;
                }
                todo = t;
                cap = grown;
            }
            todo[n++] = m->entries[i].child;
        }
        m = n > 0 ? todo[--n] : NULL;
    }
    free(todo);
    return ok;
}

nb_status nb_module_add_child(nb_module *m, const char *name, nb_module *child)
{
    const char *op = "nb_module_add_child";
    nb_status st = NB_OK;
    if (nb__is_null(op, "module", m) || nb__is_null(op, "name", name) || nb__is_null(op, "child", child))
        st = NB_ERR_NULL;
    else if (child->has_parent)
        return nb__fail_status(NB_ERR_ARGUMENT, "%s: the %s module \"%s\" is already the child of another module", op,
                               child->type, name); /* its parent owns it: not freed here */
    else if (is_within(m, child))
        st = nb__fail_status(NB_ERR_ARGUMENT, "%s: a %s module cannot be its own descendant", op, child->type);
    else if (!check_name(op, m, name))
        st = nb_last_status();
    module_entry *e = st == NB_OK ? append(op, m, ENTRY_CHILD, name) : NULL;
    if (!e) {
        if (child && !child->has_parent && child != m && !(m && is_within(m, child))) nb_module_free(child);
        return st != NB_OK ? st : nb_last_status();
    }
    e->child = child;
    child->has_parent = true;
    set_mode(child, m->training); /* a child joins in its parent's mode */
    return NB_OK;
}

nb_status nb_module_add_training_flag(nb_module *m, bool *training)
{
    const char *op = "nb_module_add_training_flag";
    if (nb__is_null(op, "module", m) || nb__is_null(op, "flag", training)) return NB_ERR_NULL;
    for (int i = 0; i < m->nflags; i++)
        if (m->flags[i] == training) {
            *training = m->training;
            return NB_OK;
        }
    if (m->nflags == m->flags_cap) {
        int cap = m->flags_cap ? m->flags_cap * 2 : 2;
        bool **flags = realloc(m->flags, (size_t)cap * sizeof *flags);
        if (!flags) return nb__fail_status(NB_ERR_MEMORY, "%s: out of memory", op);
        m->flags = flags;
        m->flags_cap = cap;
    }
    m->flags[m->nflags++] = training;
    *training = m->training;
    return NB_OK;
}

nb_module *nb_module_child(const nb_module *m, const char *path)
{
    const char *op = "nb_module_child";
    if (nb__is_null(op, "module", m) || nb__is_null(op, "path", path)) return NULL;
    const nb_module *at = m;
    for (const char *part = path;;) {
        size_t len = strcspn(part, ".");
        const nb_module *next = NULL;
        for (int i = 0; i < at->count && !next; i++)
            if (at->entries[i].child && strlen(at->entries[i].name) == len &&
                memcmp(at->entries[i].name, part, len) == 0)
                next = at->entries[i].child;
        if (!next)
            return nb__fail(NB_ERR_ARGUMENT, "%s: the %s module has no child \"%.*s\" (looking for \"%s\")", op,
                            at->type, (int)len, part, path);
        at = next;
        if (part[len] == '\0') return (nb_module *)at;
        part += len + 1;
    }
}

const char *nb_module_type(const nb_module *m)
{
    if (nb__is_null("nb_module_type", "module", m)) return NULL;
    return m->type;
}

void nb_module_train(nb_module *m, bool training)
{
    if (nb__is_null("nb_module_train", "module", m)) return;
    set_mode(m, training);
}

bool nb_module_training(const nb_module *m)
{
    if (nb__is_null("nb_module_training", "module", m)) return false;
    return m->training;
}

/* ---------------------------------------------------------------- named lists */

/* Appends m's tensors of the wanted kinds (parameters first, then buffers when both) under prefix,
 * then its children's, depth first: PyTorch's order. A tensor already in the list (tied) is
 * skipped. The recursion depth is the tree's depth, which the names' length bounds in practice. */
static bool collect(const char *op, const nb_module *m, char *prefix, size_t len, bool params, bool buffers,
                    nb_params *out)
{
    for (int pass = 0; pass < 2; pass++) {
        entry_kind kind = pass == 0 ? ENTRY_PARAMETER : ENTRY_BUFFER;
        if ((kind == ENTRY_PARAMETER && !params) || (kind == ENTRY_BUFFER && !buffers)) continue;
        for (int i = 0; i < m->count; i++) {
            const module_entry *e = &m->entries[i];
            if (e->kind != kind) continue;
            bool listed = false;
            for (int k = 0; k < nb_params_count(out) && !listed; k++) listed = nb_params_get(out, k) == e->tensor;
            if (listed) continue;
            snprintf(prefix + len, NB_MODULE_PATH_MAX + 1 - len, "%s", e->name);
            if (len + strlen(e->name) > NB_MODULE_PATH_MAX)
                return nb__fail(NB_ERR_ARGUMENT, "%s: the full name \"%s...\" is longer than %d bytes", op, prefix,
                                NB_MODULE_PATH_MAX),
                       false;
            if (nb_params_add_named(out, prefix, e->tensor) != NB_OK) return false;
        }
    }
    for (int i = 0; i < m->count; i++) {
        const module_entry *e = &m->entries[i];
        if (!e->child) continue;
        size_t sub = len + strlen(e->name) + 1;
        if (sub > NB_MODULE_PATH_MAX)
            return nb__fail(NB_ERR_ARGUMENT, "%s: the path of child \"%s\" is longer than %d bytes", op, e->name,
                            NB_MODULE_PATH_MAX),
                   false;
        snprintf(prefix + len, NB_MODULE_PATH_MAX + 1 - len, "%s.", e->name);
        if (!collect(op, e->child, prefix, sub, params, buffers, out)) return false;
        prefix[len] = '\0';
    }
    return true;
}

static nb_params *named_list(const char *op, const nb_module *m, bool params, bool buffers)
{
    if (nb__is_null(op, "module", m)) return NULL;
    nb_params *out = nb_params_new();
    if (!out) return NULL;
    char prefix[NB_MODULE_PATH_MAX + 1] = "";
    if (!collect(op, m, prefix, 0, params, buffers, out)) {
        nb_params_free(out);
        return NULL;
    }
    return out;
}

nb_params *nb_module_named_parameters(const nb_module *m)
{
    return named_list("nb_module_named_parameters", m, true, false);
}

nb_params *nb_module_named_buffers(const nb_module *m) { return named_list("nb_module_named_buffers", m, false, true); }

nb_params *nb_module_state(const nb_module *m) { return named_list("nb_module_state", m, true, true); }
