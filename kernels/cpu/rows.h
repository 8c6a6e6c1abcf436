/* rows.h — the CPU's products, scans and sorts along rows (kernels/rows.h's rules). */
#ifndef NB_KERNELS_CPU_ROWS_H
#define NB_KERNELS_CPU_ROWS_H

#include "../rows.h"

void nbk_cpu_rows(nbk_rows_op op, const nbk_rows_args *a, int nthreads);
/* NB_ERR_MEMORY (with nbk_error) when the scratch space cannot be had. */
nb_status nbk_cpu_sort(const nbk_sort_args *a, int nthreads);

/* One row of log-sum-exp or variance, vectorised (rows_stats.c). */
void nbk_cpu_row_logsumexp(const nbk_rows_args *a, int64_t r);
void nbk_cpu_row_var(const nbk_rows_args *a, int64_t r);

#endif /* NB_KERNELS_CPU_ROWS_H */
