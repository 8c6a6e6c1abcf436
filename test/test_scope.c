/* test_scope.c — scopes: what a scope releases, what nb_keep passes on, nesting, releasing by
 * hand (the scope's reference), a begin that runs out of memory, and nb_scope_end's status.
 * Whether everything is freed exactly once is checked by running this suite under the sanitizers
 * (-Db_sanitize=address,undefined): a tensor a scope failed to release is a leak report, one it
 * released twice a use-after-free. */
#include "helpers.h"

#include <pthread.h>
#include <string.h>

/* Internal hooks of the static library (lib/tensor.h). */
nb_tensor *nb__untrack(nb_tensor *t);
void nb__scope_register(nb_tensor *t);
void nb__scope_fail_growth_after(int n);

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/* Under AddressSanitizer, fails the test when anything allocated so far is unreachable (LeakSanitizer
 * prints what and where above); elsewhere a no-op. */
static void assert_no_leaks(void)
{
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (see the report above)");
}
#else
static void assert_no_leaks(void) {}
#endif

/* Each test runs its body in a function of its own, so that when it returns no pointer to what
 * it made is left on the live stack for the leak check to mistake for a reference. */

/* t's first element (temporaries go to the open scope) */
static double first(const nb_tensor *t) { return nb_item(nb_narrow(nb_flatten(t), 0, 0, 1)); }

static __attribute__((noinline)) void scope_releases_what_it_made(void)
{
    for (int step = 0; step < 100; step++) {
        nb_scope_begin();
        nb_tensor *x = nb_ones(NB_SHAPE(64, 32), NB_OPTS(NB_FLOAT32));
        nb_tensor *y = nb_mul_scalar(nb_add(x, nb_t(nb_t(x))), 0.5); /* temporaries, none released */
        nb_tensor *v = nb_reshape(nb_narrow(y, 0, 1, 2), NB_SHAPE(-1));
        cr_assert_eq(first(v), 1.0);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
}

Test(core, scope_releases_what_it_made, .init = nb_test_setup)
{
    scope_releases_what_it_made();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_keep_passes_to_caller(void)
{
    nb_scope_begin();
    nb_tensor *tmp = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *kept = nb_keep(nb_mul_scalar(tmp, 3));
    cr_assert_eq(nb_scope_end(), NB_OK);
    /* kept outlives the scope, and is now the caller's to release */
    assert_values(kept, (const double[]){3, 3, 3}, 3, 0, 0);
    nb_release(kept);
    cr_assert_null(nb_keep(NULL));
}

Test(core, scope_keep_passes_to_caller, .init = nb_test_setup)
{
    scope_keep_passes_to_caller();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_nested_keep_passes_to_parent(void)
{
    nb_scope_begin(); /* outer */
    nb_tensor *a = nb_full(NB_SHAPE(2), 1, NB_OPTS(NB_FLOAT64));
    nb_tensor *inner_result;
    nb_scope_begin(); /* inner */
    {
        nb_tensor *b = nb_add_scalar(a, 1); /* uses the outer scope's tensor */
        inner_result = nb_keep(nb_mul(b, b));
        nb_tensor *dropped = nb_exp(b);
        (void)dropped;
    }
    cr_assert_eq(nb_scope_end(), NB_OK);
    /* inner_result now belongs to the outer scope; a still lives */
    assert_values(inner_result, (const double[]){4, 4}, 2, 0, 0);
    assert_values(a, (const double[]){1, 1}, 2, 0, 0);
    nb_tensor *from_outer = nb_keep(nb_add(inner_result, a));
    cr_assert_eq(nb_scope_end(), NB_OK); /* releases a and inner_result */
    assert_values(from_outer, (const double[]){5, 5}, 2, 0, 0);
    nb_release(from_outer);
}

Test(core, scope_nested_keep_passes_to_parent, .init = nb_test_setup)
{
    scope_nested_keep_passes_to_parent();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_keep_of_an_outer_tensor_in_an_inner_scope(void)
{
    nb_scope_begin(); /* outer */
    nb_tensor *a = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    nb_scope_begin(); /* inner: keeping a tensor it does not own changes nothing */
    cr_assert_eq(nb_keep(a), a);
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(a, (const double[]){1, 1, 1, 1}, 4, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK); /* a is the outer scope's: released here (no leak) */
}

Test(core, scope_keep_of_an_outer_tensor_in_an_inner_scope, .init = nb_test_setup)
{
    scope_keep_of_an_outer_tensor_in_an_inner_scope();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_keep_twice_nested(void)
{
    nb_tensor *out;
    nb_scope_begin();
    nb_scope_begin();
    nb_scope_begin();
    out = nb_keep(nb_full(NB_SHAPE(1), 7, NB_OPTS(NB_INT64)));
    nb_scope_end();   /* into the middle scope */
    nb_keep(out);     /* and on */
    nb_scope_end();   /* into the outer scope */
    nb_keep(out);
    nb_scope_end();   /* to the caller */
    cr_assert_eq(nb_item(out), 7.0);
    nb_release(out);
    assert_ok();
}

Test(core, scope_keep_twice_nested, .init = nb_test_setup)
{
    scope_keep_twice_nested();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_release_by_hand(void)
{
    nb_scope_begin();
    nb_tensor *a = nb_ones(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32));
    nb_tensor *b = nb_add(a, a);
    nb_release(a); /* the scope forgets it: no double release at the end */
    nb_tensor *c = nb_keep(nb_mul_scalar(b, 2));
    nb_release(c); /* released by hand after being kept */
    nb_tensor *d = nb_zeros(NB_SHAPE(5), NB_OPTS(NB_FLOAT32));
    nb_release(d);
    nb_tensor *e = nb_zeros(NB_SHAPE(5), NB_OPTS(NB_FLOAT32)); /* may reuse d's memory */
    cr_assert_eq(first(e), 0.0);
    cr_assert_eq(first(b), 2.0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_release_by_hand, .init = nb_test_setup)
{
    scope_release_by_hand();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_retained_tensor_outlives_it(void)
{
    nb_scope_begin();
    nb_tensor *x = nb_retain(nb_full(NB_SHAPE(2), 4, NB_OPTS(NB_FLOAT32)));
    nb_tensor *view = nb_t(x);
    nb_tensor *base_of_view = nb_zeros(NB_SHAPE(2, 2), NB_OPTS(NB_FLOAT32));
    nb_tensor *kept_view = nb_keep(nb_select(base_of_view, 0, 1)); /* keeps base's storage alive */
    (void)view;
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(x, (const double[]){4, 4}, 2, 0, 0);
    nb_fill_(kept_view, 3);
    assert_values(kept_view, (const double[]){3, 3}, 2, 0, 0);
    nb_release(kept_view);
    nb_release(x);
}

Test(core, scope_retained_tensor_outlives_it, .init = nb_test_setup)
{
    scope_retained_tensor_outlives_it();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_end_without_scope(void)
{
    cr_assert_eq(nb_scope_end(), NB_ERR_ARGUMENT);
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scope_end", "no scope"));
    nb_scope_begin();
    cr_assert_eq(nb_scope_end(), NB_OK);
    cr_assert_eq(nb_scope_end(), NB_ERR_ARGUMENT); /* one begin, one end */
    assert_error(NB_ERR_ARGUMENT, ERR_PARTS("nb_scope_end"));
}

Test(core, scope_end_without_scope, .init = nb_test_setup)
{
    scope_end_without_scope();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_end_returns_pending_status(void)
{
    nb_scope_begin();
    nb_tensor *x = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    nb_tensor *loss = nb_mul_scalar(nb_sub(x, nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32))), 2.0);
    cr_assert_null(loss);
    nb_status st = nb_scope_end(); /* the step is checked once, at its end */
    cr_assert_eq(st, NB_ERR_SHAPE);
    assert_error(NB_ERR_SHAPE, ERR_PARTS("nb_sub", "[3]", "[4]"));
    nb_scope_begin();
    nb_scope_begin();
    cr_assert_null(nb_exp(NULL));
    cr_assert_eq(nb_scope_end(), NB_ERR_NULL);
    cr_assert_eq(nb_scope_end(), NB_ERR_NULL, "still pending in the outer scope");
    nb_clear_error();
    nb_scope_begin();
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_end_returns_pending_status, .init = nb_test_setup)
{
    scope_end_returns_pending_status();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_many_tensors(void)
{
    /* more tensors than the stack's first allocation, in nested scopes */
    nb_scope_begin();
    nb_tensor *acc = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    for (int i = 0; i < 10; i++) {
        nb_scope_begin();
        nb_tensor *sum = acc;
        for (int k = 0; k < 300; k++) sum = nb_add_scalar(sum, 1);
        acc = nb_keep(sum);
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
    assert_values(acc, (const double[]){3000, 3000}, 2, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_many_tensors, .init = nb_test_setup)
{
    scope_many_tensors();
    assert_no_leaks();
}

/* ---------------------------------------------------------------- releasing a scope's tensor by hand
 * The release is the scope's reference, so a tensor someone else still holds survives the scope's
 * end. Without that rule the scope released it a second time and the uses below were a
 * heap-use-after-free under ASan. */

static __attribute__((noinline)) void scope_hand_release_of_a_listed_tensor(void)
{
    nb_params *p = nb_params_new();
    nb_scope_begin();
    nb_tensor *w = nb_full(NB_SHAPE(3, 2), 5, NB_OPTS(NB_FLOAT32));
    cr_assert_eq(nb_params_add(p, w), NB_OK); /* the list retains it */
    nb_release(w);                            /* the scope's reference: the list's remains */
    cr_assert_eq(nb_scope_end(), NB_OK);
    nb_tensor *got = nb_params_get(p, 0);
    cr_assert_eq(nb_numel(got), 6);
    assert_values(got, (const double[]){5, 5, 5, 5, 5, 5}, 6, 0, 0);
    nb_params_free(p); /* the last reference */
    assert_ok();
}

Test(core, scope_hand_release_of_a_listed_tensor, .init = nb_test_setup)
{
    scope_hand_release_of_a_listed_tensor();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_list_freed_inside_the_scope(void)
{
    /* the list gives back its own reference, not the scope's: the scope still releases w */
    nb_scope_begin();
    nb_tensor *w = nb_ones(NB_SHAPE(4), NB_OPTS(NB_FLOAT32));
    nb_params *p = nb_params_new();
    cr_assert_eq(nb_params_add(p, w), NB_OK);
    nb_params_free(p);
    assert_values(w, (const double[]){1, 1, 1, 1}, 4, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_list_freed_inside_the_scope, .init = nb_test_setup)
{
    scope_list_freed_inside_the_scope();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_hand_release_in_an_inner_scope(void)
{
    /* an outer scope's tensor released inside an inner scope: the outer one forgets it */
    nb_params *p = nb_params_new();
    nb_scope_begin();
    nb_tensor *a = nb_full(NB_SHAPE(2), 3, NB_OPTS(NB_FLOAT64));
    nb_tensor *b;
    nb_scope_begin();
    {
        cr_assert_eq(nb_params_add(p, a), NB_OK);
        nb_release(a);
        b = nb_keep(nb_full(NB_SHAPE(2), 4, NB_OPTS(NB_FLOAT64))); /* passes to the outer scope */
        cr_assert_eq(nb_scope_end(), NB_OK);
    }
    cr_assert_eq(nb_params_add(p, b), NB_OK);
    nb_release(b); /* now the outer scope's: its reference goes, the list keeps b */
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(nb_params_get(p, 0), (const double[]){3, 3}, 2, 0, 0);
    assert_values(nb_params_get(p, 1), (const double[]){4, 4}, 2, 0, 0);
    nb_params_free(p);
}

Test(core, scope_hand_release_in_an_inner_scope, .init = nb_test_setup)
{
    scope_hand_release_in_an_inner_scope();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_retain_then_release_inside_it(void)
{
    /* a retain and a release pair up: the scope keeps its reference and frees t at its end */
    nb_scope_begin();
    nb_tensor *t = nb_full(NB_SHAPE(3), 2, NB_OPTS(NB_FLOAT32));
    nb_retain(t);
    nb_release(t); /* the retain's */
    assert_values(t, (const double[]){2, 2, 2}, 3, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK); /* the scope's: freed (assert_no_leaks checks) */
    /* the same for a tensor kept into the enclosing scope, released there while retained */
    nb_scope_begin();
    nb_scope_begin();
    nb_tensor *k = nb_retain(nb_keep(nb_ones(NB_SHAPE(2), NB_OPTS(NB_INT64))));
    cr_assert_eq(nb_scope_end(), NB_OK);
    nb_release(k); /* the retain's: the outer scope still owns k */
    assert_values(k, (const double[]){1, 1}, 2, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK);
    /* a release with no retain out is the scope's reference, even after retains were given back */
    nb_scope_begin();
    nb_tensor *u = nb_zeros(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb_params *holder = nb_params_new();
    cr_assert_eq(nb_params_add(holder, u), NB_OK);
    nb_release(nb_retain(u)); /* pairs up */
    nb_release(u);            /* the scope's */
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(u, (const double[]){0, 0}, 2, 0, 0); /* the list keeps it */
    nb_params_free(holder);
}

Test(core, scope_retain_then_release_inside_it, .init = nb_test_setup)
{
    scope_retain_then_release_inside_it();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_hand_release_after_keep_and_of_a_views_base_body(void)
{
    nb_scope_begin();
    /* a kept tensor released by hand before the end: freed once, not passed on */
    nb_tensor *k = nb_keep(nb_ones(NB_SHAPE(8), NB_OPTS(NB_FLOAT32)));
    nb_release(k);
    /* a view keeps its base's storage, not its header: releasing the base by hand is fine */
    nb_tensor *base = nb_arange(0, 6, 1, NB_OPTS(NB_FLOAT32));
    nb_tensor *view = nb_reshape(base, NB_SHAPE(2, 3));
    nb_release(base);
    assert_values(view, (const double[]){0, 1, 2, 3, 4, 5}, 6, 0, 0);
    /* releasing twice what one owns once is still a caller's mistake: not tested */
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_hand_release_after_keep_and_of_a_views_base, .init = nb_test_setup)
{
    scope_hand_release_after_keep_and_of_a_views_base_body();
    assert_no_leaks();
}

/* Releases a tensor that another thread's scope owns: a plain reference, not that scope's. */
static void *release_elsewhere(void *t)
{
    nb_scope_begin(); /* this thread's scope does not own t */
    nb_release(t);
    nb_scope_end();
    return NULL;
}

static __attribute__((noinline)) void scope_release_on_another_thread(void)
{
    nb_scope_begin();
    nb_tensor *t = nb_retain(nb_full(NB_SHAPE(5), 9, NB_OPTS(NB_FLOAT32))); /* one for the thread */
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, release_elsewhere, t), 0);
    pthread_join(th, NULL);
    assert_values(t, (const double[]){9, 9, 9, 9, 9}, 5, 0, 0);
    cr_assert_eq(nb_scope_end(), NB_OK); /* this scope still owns t and frees it */
}

Test(core, scope_release_on_another_thread, .init = nb_test_setup)
{
    scope_release_on_another_thread();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_internal_untrack(void)
{
    /* nb__untrack hands the scope's reference to the caller: a later release is a plain one */
    nb_scope_begin();
    nb_tensor *t = nb__untrack(nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32)));
    nb_tensor *u = nb_ones(NB_SHAPE(2), NB_OPTS(NB_FLOAT32));
    nb__scope_register(u); /* registering a tensor the scope owns already keeps one link */
    cr_assert_eq(nb_scope_end(), NB_OK);
    assert_values(t, (const double[]){1, 1}, 2, 0, 0);
    nb_release(t);
}

Test(core, scope_internal_untrack, .init = nb_test_setup)
{
    scope_internal_untrack();
    assert_no_leaks();
}

/* ---------------------------------------------------------------- out of memory
 * A begin that cannot allocate still opens a scope that its end closes, releasing what it owns;
 * the hook makes the frame array's growth fail (the first 32 frames need none). */

#define DEEP 80 /* past the reserve (32) and the first heap array (64) */

static __attribute__((noinline)) void scope_begin_out_of_memory(int growths_before_failure)
{
    nb__scope_fail_growth_after(growths_before_failure);
    nb_tensor *kept[DEEP];
    int failed_at = -1;
    for (int d = 0; d < DEEP; d++) {
        nb_scope_begin();
        if (failed_at < 0 && nb_last_status() != NB_OK) failed_at = d;
        nb_tensor *tmp = nb_full(NB_SHAPE(1), d, NB_OPTS(NB_FLOAT32)); /* released at the end */
        kept[d] = nb_keep(nb_add_scalar(tmp, 1));                      /* passes to the scope below */
    }
    cr_assert_eq(failed_at, growths_before_failure == 0 ? 32 : 64, "the begin that could not grow");
    for (int d = DEEP - 1; d > 0; d--) {
        cr_assert_eq(nb_scope_end(), nb_last_status());
        assert_values(kept[d], (const double[]){d + 1}, 1, 0, 0); /* alive in the scope below */
    }
    nb_keep(kept[0]);
    cr_assert_eq(nb_scope_end(), NB_ERR_MEMORY, "the step reports the failed begin at its end");
    assert_error(NB_ERR_MEMORY, ERR_PARTS("nb_scope_begin", "out of memory"));
    /* every inner kept tensor belonged to the outermost scope and was released there */
    assert_values(kept[0], (const double[]){1}, 1, 0, 0);
    nb_release(kept[0]);
    nb__scope_fail_growth_after(-1);
    /* and scopes work as before */
    nb_scope_begin();
    nb_tensor *x = nb_ones(NB_SHAPE(3), NB_OPTS(NB_FLOAT32));
    (void)x;
    cr_assert_eq(nb_scope_end(), NB_OK);
}

Test(core, scope_begin_out_of_memory_at_the_reserve, .init = nb_test_setup)
{
    scope_begin_out_of_memory(0);
    assert_no_leaks();
}

Test(core, scope_begin_out_of_memory_growing_the_heap, .init = nb_test_setup)
{
    scope_begin_out_of_memory(1);
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_overflow_keep_and_release(void)
{
    /* in an overflow scope: keep passes to the scope below, a hand release is the scope's */
    nb__scope_fail_growth_after(0);
    for (int d = 0; d < 32; d++) nb_scope_begin();
    nb_params *p = nb_params_new();
    nb_scope_begin(); /* overflow */
    assert_error(NB_ERR_MEMORY, ERR_PARTS("nb_scope_begin", "33 deep"));
    nb_tensor *listed = nb_full(NB_SHAPE(2), 7, NB_OPTS(NB_FLOAT32));
    nb_params_add(p, listed);
    nb_release(listed);
    nb_scope_begin(); /* nested in the overflow scope: shares its list */
    nb_tensor *kept = nb_keep(nb_full(NB_SHAPE(2), 8, NB_OPTS(NB_FLOAT32)));
    nb_tensor *dropped = nb_ones(NB_SHAPE(1000), NB_OPTS(NB_FLOAT32));
    (void)dropped;
    cr_assert_eq(nb_scope_end(), NB_OK);
    nb_keep(kept);
    cr_assert_eq(nb_scope_end(), NB_OK); /* the overflow scope: dropped is released, kept passes down */
    assert_values(kept, (const double[]){8, 8}, 2, 0, 0);
    assert_values(nb_params_get(p, 0), (const double[]){7, 7}, 2, 0, 0);
    for (int d = 0; d < 32; d++) cr_assert_eq(nb_scope_end(), NB_OK);
    nb_params_free(p);
    nb__scope_fail_growth_after(-1);
}

Test(core, scope_overflow_keep_and_release, .init = nb_test_setup)
{
    scope_overflow_keep_and_release();
    assert_no_leaks();
}

static __attribute__((noinline)) void scope_end_status_matches_last_status(void)
{
    /* an unmatched end after an earlier error returns that error, as nb_last_status() does */
    cr_assert_null(nb_exp(NULL));
    cr_assert_eq(nb_scope_end(), NB_ERR_NULL);
    cr_assert_eq(nb_last_status(), NB_ERR_NULL);
    nb_clear_error();
}

Test(core, scope_end_status_matches_last_status, .init = nb_test_setup)
{
    scope_end_status_matches_last_status();
    assert_no_leaks();
}
