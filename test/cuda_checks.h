/* cuda_checks.h — what the CUDA suite's test files share: a fixture that skips without a device,
 * and the comparison of a device's result with a reference computed elsewhere (the CPU). */
#ifndef NB_TEST_CUDA_CHECKS_H
#define NB_TEST_CUDA_CHECKS_H

#include "helpers.h"

/* A fixture: nb_test_setup, then skip without a CUDA device (or in a build without CUDA). */
void cuda_test_setup(void);

/* "cpu", "cuda:0" */
const char *cuda_device_string(nb_device d, char *buf, size_t size);

/* got (computed on device) against want (the same op on the CPU): got lives on device, same shape
 * and dtype; float32 within normalised MSE sum((g-w)^2)/sum(w^2) <= 1e-7, float64 <= 1e-24,
 * non-finite values equal; int64 and bool bit-equal. */
void cuda_assert_match(const nb_tensor *got, const nb_tensor *want, nb_device device, const char *what);
/* The same comparison against any reference tensor (on any device), floats within normalised MSE
 * tol (0: equal values). */
void cuda_assert_close(const nb_tensor *got, const nb_tensor *want, nb_device device, double tol, const char *what);
/* The bytes of t as a row-major host array (*size receives their count unless NULL); the caller
 * frees. */
void *cuda_host_bytes(const nb_tensor *t, size_t *size);

#endif /* NB_TEST_CUDA_CHECKS_H */
