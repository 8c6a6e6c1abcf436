/* scope.c — thread-local scopes: every tensor created while a scope is open is owned by it and
 * released when it ends, unless kept (then it passes to the enclosing scope, or to the caller).
 *
 * The stack is one array of tensor slots; each open scope remembers where its slots begin.
 * A tensor freed early clears its slot, so releasing a scope-owned tensor by hand is safe.
 * Library code that builds a result from temporaries pauses tracking, so its temporaries are
 * plainly its own, and registers only what it returns. */
#include "error.h"
#include "tensor.h"

#include <stdlib.h>

typedef struct scope_stack {
    nb_tensor **slots; /* (nslots,) owned tensors; NULL where one was freed or untracked */
    int64_t nslots, slot_cap;
    int64_t *frames; /* (nframes,) first slot of each open scope */
    int nframes, frame_cap;
} scope_stack;

static _Thread_local scope_stack stack;
static _Thread_local int paused = 0;

void nb__tracking_pause(void) { paused++; }
void nb__tracking_resume(void) { paused--; }

static bool grow(void **buf, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap) return true;
    int64_t n = *cap ? *cap * 2 : 256;
    while (n < need) n *= 2;
    void *p = realloc(*buf, (size_t)n * elem);
    if (!p) return false;
    *buf = p;
    *cap = n;
    return true;
}

void nb_scope_begin(void)
{
    int64_t cap = stack.frame_cap;
    if (!grow((void **)&stack.frames, &cap, stack.nframes + 1, sizeof(int64_t))) {
        nb__fail(NB_ERR_MEMORY, "nb_scope_begin: out of memory");
        return;
    }
    stack.frame_cap = (int)cap;
    stack.frames[stack.nframes++] = stack.nslots;
}

void nb__scope_register(nb_tensor *t)
{
    t->scope_slot = -1;
    t->scope_keep = false;
    if (stack.nframes == 0 || paused) return;
    if (!grow((void **)&stack.slots, &stack.slot_cap, stack.nslots + 1, sizeof(nb_tensor *))) {
        nb__fail(NB_ERR_MEMORY, "scope: out of memory registering a tensor; it is now the caller's");
        return;
    }
    t->scope_slot = stack.nslots;
    stack.slots[stack.nslots++] = t;
}

void nb__scope_forget(nb_tensor *t)
{
    if (t->scope_slot >= 0 && t->scope_slot < stack.nslots && stack.slots[t->scope_slot] == t)
        stack.slots[t->scope_slot] = NULL;
    t->scope_slot = -1;
}

nb_tensor *nb__untrack(nb_tensor *t)
{
    if (t) nb__scope_forget(t);
    return t;
}

nb_tensor *nb_keep(nb_tensor *t)
{
    /* Only the innermost scope's own tensors are marked: a tensor an enclosing scope owns already
     * outlives this one, and a mark left on it would make that scope skip it (a leak). */
    if (t && stack.nframes > 0 && t->scope_slot >= stack.frames[stack.nframes - 1]) t->scope_keep = true;
    return t;
}

nb_status nb_scope_end(void)
{
    if (stack.nframes == 0)
        return nb__fail_status(NB_ERR_ARGUMENT, "nb_scope_end: no scope is open");
    int64_t begin = stack.frames[--stack.nframes];
    bool has_parent = stack.nframes > 0;
    int64_t kept = begin; /* kept tensors move down to here, into the parent scope */
    for (int64_t i = begin; i < stack.nslots; i++) {
        nb_tensor *t = stack.slots[i];
        if (!t) continue;
        stack.slots[i] = NULL;
        if (t->scope_keep) {
            t->scope_keep = false;
            if (has_parent) {
                t->scope_slot = kept;
                stack.slots[kept++] = t;
            } else {
                t->scope_slot = -1;
            }
        } else {
            t->scope_slot = -1;
            nb_release(t);
        }
    }
    stack.nslots = kept;
    if (stack.nframes == 0) { /* give the memory back when the outermost scope closes */
        free(stack.slots);
        free(stack.frames);
        stack = (scope_stack){0};
    }
    return nb_last_status();
}
