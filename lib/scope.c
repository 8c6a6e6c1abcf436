/* scope.c — thread-local scopes: every tensor created while a scope is open is owned by it and
 * released when it ends, unless kept (then it passes to the enclosing scope, or to the caller).
 *
 * The contract. A scope holds one reference to each tensor it owns: the one the op returned.
 * nb_release gives back a reference taken with nb_retain while one is out (tensor.c); otherwise
 * it releases the tensor's own reference, which for a tensor a scope of this thread owns is the
 * scope's: the scope forgets the tensor, so whoever else holds references (a parameter list,
 * which keeps its own with nb__retain_ref) keeps it alive and the scope never releases it again.
 *
 * Each open scope (a frame) is a doubly linked list threaded through its tensors' headers, so
 * registering a tensor, forgetting it and passing it on allocate nothing and cannot fail. The
 * frames are an array: the first NB_SCOPE_RESERVE live in thread-local storage, so the outermost
 * scopes always open; deeper ones grow the array on the heap. When that growth fails, the scope
 * still opens as an overflow scope: it and the scopes nested in it share one list, released when
 * the overflow scope ends (a tensor kept in a nested one then passes to the scope below it), and
 * nb_last_status() reports the out-of-memory error.
 *
 * Library code that builds a result from temporaries pauses tracking, so its temporaries are
 * plainly its own, and registers only what it returns. */
#include "error.h"
#include "tensor.h"

#include <stdlib.h>
#include <string.h>

#define NB_SCOPE_RESERVE 32 /* frames that need no allocation */
#define OVERFLOW_FRAME (-2)  /* scope_frame of a tensor in the overflow list */

typedef struct frame {
    nb_tensor *head; /* the tensors this scope owns, newest first */
} frame;

typedef struct scope_stack {
    frame reserve[NB_SCOPE_RESERVE];
    frame *heap;    /* (cap,) all frames once the reserve is outgrown, else NULL */
    int nframes, cap;
    frame overflow; /* the tensors of the overflow scopes */
    int overflow_depth; /* overflow scopes open above the frames (0: none) */
} scope_stack;

static _Thread_local scope_stack stack = {.cap = NB_SCOPE_RESERVE};
static _Thread_local int paused = 0;
static _Thread_local int fail_growth_after = -1; /* tests: nb__scope_fail_growth_after */

void nb__tracking_pause(void) { paused++; }
void nb__tracking_resume(void) { paused--; }
void nb__scope_fail_growth_after(int n) { fail_growth_after = n; }

static frame *frames(void) { return stack.heap ? stack.heap : stack.reserve; }

/* The list that holds frame index f (OVERFLOW_FRAME for the overflow list). */
static frame *frame_at(int f) { return f == OVERFLOW_FRAME ? &stack.overflow : &frames()[f]; }

/* The innermost open scope's frame index; only while one is open. */
static int top(void) { return stack.overflow_depth > 0 ? OVERFLOW_FRAME : stack.nframes - 1; }

/* Only this thread writes its tensors' owner, but another thread's release may read it. */
static const void *owner(const nb_tensor *t) { return atomic_load_explicit(&t->scope_owner, memory_order_relaxed); }
static void set_owner(nb_tensor *t, const void *s) { atomic_store_explicit(&t->scope_owner, s, memory_order_relaxed); }

static void link(nb_tensor *t, int f)
{
    frame *fr = frame_at(f);
    set_owner(t, &stack);
    t->scope_frame = f;
    t->scope_prev = NULL;
    t->scope_next = fr->head;
    if (fr->head) fr->head->scope_prev = t;
    fr->head = t;
}

static void unlink_from_scope(nb_tensor *t)
{
    frame *fr = frame_at(t->scope_frame);
    if (t->scope_prev)
        t->scope_prev->scope_next = t->scope_next;
    else
        fr->head = t->scope_next;
    if (t->scope_next) t->scope_next->scope_prev = t->scope_prev;
    set_owner(t, NULL);
    t->scope_prev = t->scope_next = NULL;
    t->scope_keep = false;
}

/* Room for one more frame: the reserve, then the heap. False when memory ran out. */
static bool grow_frames(void)
{
    if (stack.nframes < stack.cap) return true;
    if (fail_growth_after >= 0 && fail_growth_after-- == 0) return false;
    int cap = stack.cap * 2;
    frame *p = stack.heap ? realloc(stack.heap, (size_t)cap * sizeof *p) : malloc((size_t)cap * sizeof *p);
    if (!p) return false;
    if (!stack.heap) memcpy(p, stack.reserve, sizeof stack.reserve);
    stack.heap = p;
    stack.cap = cap;
    return true;
}

void nb_scope_begin(void)
{
    if (stack.overflow_depth > 0) { /* nested in an overflow scope: shares its list */
        stack.overflow_depth++;
        return;
    }
    if (!grow_frames()) {
        /* the reserve is full (nframes > 0), so the overflow list has a scope to pass kept tensors to */
        nb__fail(NB_ERR_MEMORY,
                 "nb_scope_begin: out of memory opening a scope %d deep (%d open without allocating); it "
                 "opens anyway, sharing one list with the scopes nested in it, released at its end",
                 stack.nframes + 1, NB_SCOPE_RESERVE);
        stack.overflow.head = NULL;
        stack.overflow_depth = 1;
        return;
    }
    frames()[stack.nframes++].head = NULL;
}

void nb__scope_register(nb_tensor *t)
{
    nb__scope_forget(t); /* already owned (a library mistake): one link, never two */
    t->scope_keep = false;
    if (stack.nframes == 0 || paused) return;
    link(t, top());
}

bool nb__scope_forget(nb_tensor *t)
{
    if (!t || owner(t) != &stack) return false; /* no scope, or another thread's */
    unlink_from_scope(t);
    return true;
}

nb_tensor *nb__untrack(nb_tensor *t)
{
    nb__scope_forget(t);
    return t;
}

nb_tensor *nb_keep(nb_tensor *t)
{
    /* Only the innermost scope's own tensors are marked: a tensor an enclosing scope owns already
     * outlives this one, and a mark left on it would make that scope skip it (a leak). */
    if (t && stack.nframes > 0 && owner(t) == &stack && t->scope_frame == top()) t->scope_keep = true;
    return t;
}

/* Empties list f: kept tensors move to frame parent (or to the caller when parent < 0), the
 * rest are released. One tensor at a time from the head, so a release that frees others of the
 * list (and so unlinks them) leaves the walk intact. */
static void close_list(int f, int parent)
{
    frame *fr = frame_at(f);
    nb_tensor *t;
    while ((t = fr->head)) {
        bool keep = t->scope_keep;
        unlink_from_scope(t);
        if (!keep)
            nb__release_ref(t);
        else if (parent >= 0)
            link(t, parent);
    }
}

nb_status nb_scope_end(void)
{
    if (stack.nframes == 0) {
        nb__fail(NB_ERR_ARGUMENT, "nb_scope_end: no scope is open (each nb_scope_end needs an nb_scope_begin)");
        return nb_last_status(); /* an earlier error stays the one reported */
    }
    if (stack.overflow_depth > 0) {
        if (--stack.overflow_depth == 0) close_list(OVERFLOW_FRAME, stack.nframes - 1);
        return nb_last_status();
    }
    int f = --stack.nframes;
    close_list(f, f - 1);
    if (stack.nframes == 0 && stack.heap) { /* give the memory back when the outermost scope closes */
        free(stack.heap);
        stack.heap = NULL;
        stack.cap = NB_SCOPE_RESERVE;
    }
    return nb_last_status();
}
