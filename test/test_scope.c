/* test_scope.c — scopes: what a scope releases, what nb_keep passes on, nesting, releasing by
 * hand, and nb_scope_end's status. Whether everything is freed exactly once is checked by running
 * this suite under the sanitizers (-Db_sanitize=address,undefined): a tensor a scope failed to
 * release is a leak report, one it released twice a use-after-free. */
#include "helpers.h"

#include <string.h>

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
