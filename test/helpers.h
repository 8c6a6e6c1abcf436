/* helpers.h — shared checks for nabla's Criterion suites: golden data, closeness, errors.
 * Tests run with the working directory set to test/, so golden files are at golden/NAME.npy. */
#ifndef NB_TEST_HELPERS_H
#define NB_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <nabla.h>

/* Loads golden/NAME.npy (the test fails if it cannot). */
nb_tensor *golden(const char *name);
/* Shape, dtype and every value (as doubles) of got against want: |got - want| <= atol + rtol|want|.
 * NaNs must match NaNs. */
void assert_close(const nb_tensor *got, const nb_tensor *want, double rtol, double atol);
/* Same, against a C array of n doubles in row-major order (shape is not checked). */
void assert_values(const nb_tensor *got, const double *want, int64_t n, double rtol, double atol);
/* The pending error has this status and its message contains every given fragment; it is then
 * cleared. Use ERR_PARTS("nb_mm", "[2, 3]") for fragments. */
void assert_error(nb_status status, int nparts, const char *const *parts);
#define ERR_PARTS(...) (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[]){__VA_ARGS__}
/* No error is pending. */
void assert_ok(void);
/* A fixture that clears errors before and checks for leaked scopes after: .init = nb_test_setup */
void nb_test_setup(void);
/* A non-contiguous tensor with t's values: t transposed-copied then transposed back (2-D+), or
 * every other element of a doubled buffer (1-D). */
nb_tensor *noncontig(const nb_tensor *t);

#endif /* NB_TEST_HELPERS_H */
