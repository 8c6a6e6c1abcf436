/* checkpoint.c — nb_checkpoint_save and nb_checkpoint_load: a run's whole training state (the
 * model's tensors, the optimizer's state, the generator, the loader's place and user scalars) as
 * one safetensors file; the layout is documented in include/nabla/checkpoint.h. */
#include "error.h"
#include "safetensors.h"
#include "tensor.h"
#include "train_state.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAVE_OP "nb_checkpoint_save"
#define LOAD_OP "nb_checkpoint_load"
#define FORMAT_NAME "nabla.checkpoint"
#define FORMAT_VERSION "1"
#define OPTIM_PREFIX "optimizer/"
#define LOADER_ORDER "loader/order"
#define SCALER_SCALE "grad_scaler/scale"
#define SCALER_TRACKER "grad_scaler/growth_tracker"
#define SCALAR_PREFIX "scalar."

/* ---------------------------------------------------------------- growable lists for a save */

typedef struct entries {
    char **names;       /* (n,) owned */
    nb_tensor **values; /* (n,) borrowed */
    int n, cap;
    char **keys, **texts; /* (nmeta,) owned: the metadata */
    int nmeta, meta_cap;
    bool oom;
} entries;

static bool grow(void **items, int *cap, int need, size_t size)
{
    if (need <= *cap) return true;
    int cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need) cap2 *= 2;
    void *more = realloc(*items, (size_t)cap2 * size);
    if (!more) return false;
    *items = more;
    *cap = cap2;
    return true;
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *s = len < 0 ? NULL : malloc((size_t)len + 1);
    if (s) vsnprintf(s, (size_t)len + 1, fmt, ap);
    return s;
}

/* A tensor under the name fmt... */
static void add_tensor(entries *e, nb_tensor *t, const char *fmt, ...)
{
    if (e->oom) return;
    va_list ap;
    va_start(ap, fmt);
    char *name = vformat(fmt, ap);
    va_end(ap);
    int cap = e->cap;
    if (!name || !grow((void **)&e->names, &cap, e->n + 1, sizeof *e->names) ||
        !grow((void **)&e->values, &e->cap, e->n + 1, sizeof *e->values)) {
        free(name);
        e->oom = true;
        return;
    }
    e->names[e->n] = name;
    e->values[e->n++] = t;
}

/* A metadata pair: key and the text fmt... */
static void add_meta(entries *e, const char *key, const char *fmt, ...)
{
    if (e->oom) return;
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap), *k = strdup(key);
    va_end(ap);
    int cap = e->meta_cap;
    if (!text || !k || !grow((void **)&e->keys, &cap, e->nmeta + 1, sizeof *e->keys) ||
        !grow((void **)&e->texts, &e->meta_cap, e->nmeta + 1, sizeof *e->texts)) {
        free(text), free(k);
        e->oom = true;
        return;
    }
    e->keys[e->nmeta] = k;
    e->texts[e->nmeta++] = text;
}

static void entries_free(entries *e)
{
    for (int i = 0; i < e->n; i++) free(e->names[i]);
    for (int i = 0; i < e->nmeta; i++) free(e->keys[i]), free(e->texts[i]);
    free(e->names), free(e->values), free(e->keys), free(e->texts);
}

/* The name entry i of the state list is saved under: its own, or its index. */
static const char *state_name(const nb_params *p, int i, char *buf, size_t size)
{
    const char *name = nb_params_name(p, i);
    if (name) return name;
    snprintf(buf, size, "%d", i);
    return buf;
}

/* The index of t in the state list, or -1. */
static int state_index(const nb_params *p, const nb_tensor *t)
{
    for (int i = 0; i < nb_params_count(p); i++)
        if (nb_params_get(p, i) == t) return i;
    return -1;
}

/* The pending error, prefixed with "op: " unless it names op already (one that a call made
 * inside, nb_load_safetensors say, reported); returns its status. */
static nb_status named_by(const char *op, nb_status st)
{
    if (st == NB_OK) return st;
    const char *msg = nb_last_error();
    size_t len = strlen(op);
    if (strncmp(msg, op, len) == 0 && msg[len] == ':') return st;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", msg);
    nb_clear_error();
    return nb__fail_status(st, "%s: %s", op, copy);
}

/* ---------------------------------------------------------------- saving */

typedef struct save_walk {
    entries *e;
    const nb_params *state;
    bool missing; /* an optimizer's parameter is not in the state list */
} save_walk;

static bool save_slot(void *ctx, const nb_tensor *param, const char *slot, nb_tensor *value)
{
    save_walk *w = ctx;
    int i = state_index(w->state, param);
    if (i < 0) {
        w->missing = true;
        return false;
    }
    char buf[16];
    add_tensor(w->e, value, OPTIM_PREFIX "%s/%s", state_name(w->state, i, buf, sizeof buf), slot);
    return !w->e->oom;
}

static bool add_optimizer(const char *path, entries *e, const nb_params *state, const nb_optimizer *opt)
{
    char options[256];
    nb__optim_describe(opt, options, sizeof options);
    add_meta(e, "optimizer.kind", "%s", nb__optim_kind(opt));
    add_meta(e, "optimizer.options", "%s", options);
    add_meta(e, "optimizer.schedule_step", "%" PRId64, nb_optimizer_last_schedule_step(opt));
    int ngroups = nb_optimizer_group_count(opt);
    add_meta(e, "optimizer.groups", "%d", ngroups);
    for (int k = 0; k < ngroups; k++) {
        nb__optim_group_place g = nb__optim_group_place_of(opt, k);
        char key[48];
        snprintf(key, sizeof key, "optimizer.group.%d", k);
        char lr[NB_EXACT_DOUBLE_LEN], base[NB_EXACT_DOUBLE_LEN], wd[NB_EXACT_DOUBLE_LEN];
        add_meta(e, key, "lr=%s initial_lr=%s weight_decay=%s params=%d", nb__exact_double(g.lr, lr),
                 nb__exact_double(g.base_lr, base), nb__exact_double(g.weight_decay, wd), g.count);
    }
    save_walk w = {e, state, false};
    nb__optim_state_visit(opt, save_slot, &w);
    if (w.missing)
        return nb__fail(NB_ERR_ARGUMENT, SAVE_OP ": %s: the optimizer steps a tensor that is not in the checkpoint's "
                        "state list; its state is saved under that tensor's name", path), false;
    return true;
}

static void add_loader(entries *e, const nb_loader *l)
{
    nb__loader_place p;
    nb__loader_snapshot(l, &p);
    add_meta(e, "loader.rows", "%" PRId64, p.rows);
    add_meta(e, "loader.batch_size", "%" PRId64, p.batch_size);
    add_meta(e, "loader.batches", "%" PRId64, p.num_batches);
    add_meta(e, "loader.epoch", "%" PRId64, p.epoch);
    add_meta(e, "loader.position", "%" PRId64, p.position);
    add_meta(e, "loader.started", "%d", p.started ? 1 : 0);
    if (p.started && p.order) add_tensor(e, (nb_tensor *)p.order, LOADER_ORDER);
}

/* An error unless c is a usable description (names checked for the save or load named op). */
static bool check_request(const char *op, const char *path, const nb_checkpoint *c)
{
    if (nb__is_null(op, "path", path) || nb__is_null(op, "checkpoint", c) || nb__is_null(op, "state", c->state))
        return false;
    if (c->nscalars < 0)
        return nb__fail(NB_ERR_ARGUMENT, "%s: %s: nscalars is %d; expected >= 0", op, path, c->nscalars), false;
    if (c->nscalars > 0 && (nb__is_null(op, "scalar_names", c->scalar_names) || nb__is_null(op, "scalars", c->scalars)))
        return false;
    for (int i = 0; i < c->nscalars; i++) {
        if (!c->scalar_names[i] || !c->scalar_names[i][0])
            return nb__fail(NB_ERR_ARGUMENT, "%s: %s: scalar %d has no name", op, path, i), false;
        for (int j = 0; j < i; j++)
            if (strcmp(c->scalar_names[i], c->scalar_names[j]) == 0)
                return nb__fail(NB_ERR_ARGUMENT, "%s: %s: scalars %d and %d are both named \"%s\"", op, path, j, i,
                                c->scalar_names[i]), false;
    }
    for (int i = 0; i < nb_params_count(c->state); i++) {
        const char *name = nb_params_name(c->state, i);
        if (name && strchr(name, '/'))
            return nb__fail(NB_ERR_ARGUMENT, "%s: %s: state entry %d is named \"%s\"; names with a '/' are the "
                            "training state's", op, path, i, name), false;
    }
    return true;
}

nb_status nb_checkpoint_save(const char *path, const nb_checkpoint *c)
{
    if (!check_request(SAVE_OP, path, c)) return nb_last_status();
    entries e = {0};
    add_meta(&e, "format", FORMAT_NAME);
    add_meta(&e, "version", FORMAT_VERSION);
    nb_rng_state rng = nb_rng_get_state();
    add_meta(&e, "rng.seed", "%" PRIu64, rng.seed);
    add_meta(&e, "rng.offset", "%" PRIu64, rng.offset);
    for (int i = 0; i < nb_params_count(c->state); i++) {
        char buf[16];
        add_tensor(&e, nb_params_get(c->state, i), "%s", state_name(c->state, i, buf, sizeof buf));
    }
    bool ok = !c->optimizer || add_optimizer(path, &e, c->state, c->optimizer);
    if (ok && c->loader) add_loader(&e, c->loader);
    if (ok && c->scaler) {
        nb_tensor *scale, *tracker;
        nb__grad_scaler_state(c->scaler, &scale, &tracker);
        add_meta(&e, "grad_scaler", "%s", scale ? "scaled" : "new");
        if (scale) add_tensor(&e, scale, SCALER_SCALE), add_tensor(&e, tracker, SCALER_TRACKER);
    }
    for (int i = 0; ok && i < c->nscalars; i++) {
        char key[300];
        snprintf(key, sizeof key, SCALAR_PREFIX "%s", c->scalar_names[i]);
        char text[NB_EXACT_DOUBLE_LEN];
        add_meta(&e, key, "%s", nb__exact_double(c->scalars[i], text));
    }
    nb_status st = nb_last_status();
    if (ok && e.oom) st = nb__fail_status(NB_ERR_MEMORY, SAVE_OP ": %s: out of memory", path);
    else if (ok) {
        nb_str_map meta = {e.nmeta, (const char *const *)e.keys, (const char *const *)e.texts};
        st = nb_save_safetensors(path, e.n, (const char *const *)e.names, e.values, &meta);
    }
    entries_free(&e);
    return named_by(SAVE_OP, st);
}

/* ---------------------------------------------------------------- loading */

typedef struct load_ctx {
    const char *path;
    const nb_tensor_dict *d;
    const nb_str_map *meta;
    const nb_params *state;
} load_ctx;

/* The metadata text under key, or NULL. */
static const char *meta_get(const load_ctx *x, const char *key)
{
    for (int i = 0; i < x->meta->n; i++)
        if (strcmp(x->meta->keys[i], key) == 0) return x->meta->values[i];
    return NULL;
}

/* The tensor named name, or NULL (no error). */
static nb_tensor *dict_find(const load_ctx *x, const char *name) { return nb__tensor_dict_find(x->d, name); }

static bool bad_meta(const load_ctx *x, const char *key, const char *value, const char *expected)
{
    if (!value) return nb__fail(NB_ERR_IO, LOAD_OP ": %s: the metadata has no \"%s\"", x->path, key), false;
    return nb__fail(NB_ERR_IO, LOAD_OP ": %s: the metadata's \"%s\" is \"%s\"; expected %s", x->path, key, value,
                    expected), false;
}

static bool meta_int(const load_ctx *x, const char *key, int64_t *out)
{
    const char *v = meta_get(x, key);
    char *end;
    if (v && *v) {
        long long n = strtoll(v, &end, 10);
        if (*end == '\0') return *out = n, true;
    }
    return bad_meta(x, key, v, "an integer");
}

static bool meta_u64(const load_ctx *x, const char *key, uint64_t *out)
{
    const char *v = meta_get(x, key);
    char *end;
    if (v && *v >= '0' && *v <= '9') {
        unsigned long long n = strtoull(v, &end, 10);
        if (*end == '\0') return *out = n, true;
    }
    return bad_meta(x, key, v, "an unsigned integer");
}

static bool meta_double(const load_ctx *x, const char *key, double *out)
{
    const char *v = meta_get(x, key);
    char *end;
    if (v && *v) {
        double d = strtod(v, &end);
        if (*end == '\0') return *out = d, true;
    }
    return bad_meta(x, key, v, "a number");
}

static bool check_state(const load_ctx *x)
{
    for (int i = 0; i < nb_params_count(x->state); i++) {
        char buf[16], want[160], got[160];
        const char *name = state_name(x->state, i, buf, sizeof buf);
        const nb_tensor *t = nb_params_get(x->state, i), *v = dict_find(x, name);
        if (!v)
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file has no tensor \"%s\" (state entry %d)", x->path,
                            name, i), false;
        if (v->dtype != t->dtype || v->ndim != t->ndim || memcmp(v->shape, t->shape, (size_t)t->ndim * sizeof(int64_t)) != 0)
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: \"%s\" is %s %s in the file; the state has %s %s",
                            x->path, name, nb_dtype_name(v->dtype), nb__shape_string(v->ndim, v->shape, got, sizeof got),
                            nb_dtype_name(t->dtype), nb__shape_string(t->ndim, t->shape, want, sizeof want)),
                   false;
    }
    for (int i = 0; i < nb_tensor_dict_count(x->d); i++) { /* strict, as torch's load_state_dict */
        const char *name = nb_tensor_dict_name_at(x->d, i);
        char buf[16];
        bool known = strchr(name, '/') != NULL;
        for (int j = 0; j < nb_params_count(x->state) && !known; j++)
            known = strcmp(state_name(x->state, j, buf, sizeof buf), name) == 0;
        if (!known)
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file has a tensor \"%s\" that the state list lacks",
                            x->path, name), false;
    }
    return true;
}

static const nb_tensor *lookup_slot(void *ctx, const nb_tensor *param, const char *slot)
{
    const load_ctx *x = ctx;
    int i = state_index(x->state, param);
    if (i < 0) return NULL;
    char buf[16], name[400];
    snprintf(name, sizeof name, OPTIM_PREFIX "%s/%s", state_name(x->state, i, buf, sizeof buf), slot);
    return dict_find(x, name);
}

/* Reads the optimizer's groups into groups (room for ngroups) and checks it is opt's kind. */
static bool read_optimizer(const load_ctx *x, const nb_optimizer *opt, nb__optim_group_place *groups, int ngroups,
                           int64_t *schedule_step)
{
    const char *kind = meta_get(x, "optimizer.kind"), *options = meta_get(x, "optimizer.options");
    if (!kind) return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file holds no optimizer state", x->path), false;
    if (strcmp(kind, nb__optim_kind(opt)) != 0)
        return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file holds the state of a %s optimizer; this one is %s",
                        x->path, kind, nb__optim_kind(opt)), false;
    char mine[256];
    nb__optim_describe(opt, mine, sizeof mine);
    if (!options || strcmp(options, mine) != 0)
        return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the saved %s optimizer had the options \"%s\"; this one has "
                        "\"%s\"", x->path, kind, options ? options : "(none)", mine), false;
    for (int k = 0; k < ngroups; k++) {
        char key[48];
        snprintf(key, sizeof key, "optimizer.group.%d", k);
        const char *v = meta_get(x, key);
        nb__optim_group_place *g = &groups[k];
        int used = 0;
        if (!v || sscanf(v, "lr=%lf initial_lr=%lf weight_decay=%lf params=%d%n", &g->lr, &g->base_lr,
                         &g->weight_decay, &g->count, &used) != 4 || v[used] != '\0')
            return bad_meta(x, key, v, "\"lr=... initial_lr=... weight_decay=... params=...\"");
    }
    return meta_int(x, "optimizer.schedule_step", schedule_step);
}

static bool read_loader(const load_ctx *x, nb__loader_place *p)
{
    int64_t started = 0;
    if (!meta_get(x, "loader.epoch"))
        return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file holds no loader state", x->path), false;
    if (!meta_int(x, "loader.rows", &p->rows) || !meta_int(x, "loader.batch_size", &p->batch_size) ||
        !meta_int(x, "loader.batches", &p->num_batches) || !meta_int(x, "loader.epoch", &p->epoch) ||
        !meta_int(x, "loader.position", &p->position) || !meta_int(x, "loader.started", &started))
        return false;
    p->started = started != 0;
    p->order = dict_find(x, LOADER_ORDER);
    return true;
}

static bool read_scalars(const load_ctx *x, const nb_checkpoint *c, double *values)
{
    for (int i = 0; i < c->nscalars; i++) {
        char key[300];
        snprintf(key, sizeof key, SCALAR_PREFIX "%s", c->scalar_names[i]);
        if (!meta_get(x, key))
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file has no scalar \"%s\"", x->path,
                            c->scalar_names[i]), false;
        if (!meta_double(x, key, &values[i])) return false;
    }
    return true;
}

/* Copies the file's values into the state list's tensors. */
static bool restore_state(const load_ctx *x)
{
    bool ok = true;
    nb_no_grad_begin();
    nb__tracking_pause();
    for (int i = 0; i < nb_params_count(x->state) && ok; i++) {
        char buf[16];
        ok = nb_copy_(nb_params_get(x->state, i), dict_find(x, state_name(x->state, i, buf, sizeof buf))) != NULL;
    }
    nb__tracking_resume();
    nb_no_grad_end();
    return ok;
}

/* Everything checked, then restored. */
static bool load_from(const load_ctx *x, const nb_checkpoint *c)
{
    const char *format = meta_get(x, "format");
    bool ours = format && strcmp(format, FORMAT_NAME) == 0;
    if (format && !ours) return bad_meta(x, "format", format, "\"" FORMAT_NAME "\"");
    const char *version = meta_get(x, "version");
    if (ours && (!version || strcmp(version, FORMAT_VERSION) != 0))
        return bad_meta(x, "version", version, FORMAT_VERSION " (the version this nabla reads)");
    if (!ours && (c->optimizer || c->loader || c->scaler || c->nscalars > 0))
        return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: not a nabla checkpoint (no \"format\" metadata): it can "
                        "restore the state list alone, not an optimizer, a loader, a scaler or scalars", x->path),
               false;
    if (!check_state(x)) return false;

    nb_rng_state rng = {0, 0};
    if (ours && (!meta_u64(x, "rng.seed", &rng.seed) || !meta_u64(x, "rng.offset", &rng.offset))) return false;

    int ngroups = c->optimizer ? nb_optimizer_group_count(c->optimizer) : 0;
    int64_t saved_groups = 0, schedule_step = 0;
    if (c->optimizer) {
        if (!meta_get(x, "optimizer.kind"))
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the file holds no optimizer state", x->path), false;
        if (!meta_int(x, "optimizer.groups", &saved_groups)) return false;
        if (saved_groups != ngroups)
            return nb__fail(NB_ERR_ARGUMENT, LOAD_OP ": %s: the saved optimizer had %lld parameter groups; this one "
                            "has %d", x->path, (long long)saved_groups, ngroups), false;
    }
    nb__optim_group_place *groups = ngroups ? calloc((size_t)ngroups, sizeof *groups) : NULL;
    double *scalars = c->nscalars ? calloc((size_t)c->nscalars, sizeof *scalars) : NULL;
    if ((ngroups && !groups) || (c->nscalars && !scalars)) {
        free(groups), free(scalars);
        return nb__fail(NB_ERR_MEMORY, LOAD_OP ": %s: out of memory", x->path), false;
    }
    nb__loader_place place = {0};
    bool ok = (!c->optimizer || read_optimizer(x, c->optimizer, groups, ngroups, &schedule_step)) &&
              (!c->loader || read_loader(x, &place)) && read_scalars(x, c, scalars);
    /* Checked before anything changes: the state (above), the loader's place, then the optimizer
     * (whose restore checks everything before it writes). */
    char op[4200]; /* what the loader's and the optimizer's messages start with */
    snprintf(op, sizeof op, LOAD_OP ": %s", x->path);
    ok = ok && (!c->loader || nb__loader_check_place(op, c->loader, &place));
    const nb_tensor *scale = dict_find(x, SCALER_SCALE), *tracker = dict_find(x, SCALER_TRACKER);
    if (ok && c->scaler && !meta_get(x, "grad_scaler"))
        ok = nb__fail(NB_ERR_ARGUMENT, "%s: the file holds no gradient scaler state", op) != NULL;
    ok = ok && (!c->scaler || nb__grad_scaler_check(op, scale, tracker));
    ok = ok && (!c->optimizer ||
                nb__optim_restore(op, c->optimizer, ngroups, groups, schedule_step, lookup_slot, (void *)x));
    ok = ok && (!c->loader || nb__loader_restore(op, c->loader, &place));
    nb_device device = nb_params_count(c->state) > 0 ? nb_device_of(nb_params_get(c->state, 0)) : NB_DEVICE_CPU;
    ok = ok && (!c->scaler || nb__grad_scaler_restore(op, c->scaler, scale, tracker, device));
    ok = ok && restore_state(x);
    if (ok && ours) nb_rng_set_state(rng);
    if (ok && c->nscalars > 0) memcpy(c->scalars, scalars, (size_t)c->nscalars * sizeof *scalars);
    free(groups), free(scalars);
    return ok;
}

nb_status nb_checkpoint_load(const char *path, const nb_checkpoint *c)
{
    if (!check_request(LOAD_OP, path, c)) return nb_last_status();
    nb_safetensors_options o = {.device = NB_DEVICE_CPU, .mmap = true}; /* copied out of the mapping once */
    nb_tensor_dict *d = nb_load_safetensors(path, &o);
    if (!d) return named_by(LOAD_OP, nb_last_status());
    load_ctx x = {path, d, nb_tensor_dict_metadata(d), c->state};
    bool ok = load_from(&x, c);
    nb_tensor_dict_free(d);
    return ok ? NB_OK : named_by(LOAD_OP, nb_last_status() != NB_OK ? nb_last_status() : NB_ERR_IO);
}
