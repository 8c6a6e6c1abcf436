/* matmul_precision.c — nb_set_float32_matmul_precision: how precisely float32 matrix products
 * may run, process-wide, with torch.set_float32_matmul_precision's names. "highest" keeps float32
 * arithmetic; "high" and "medium" let CUDA's float32 products round their operands to TF32 on
 * tensor cores (lib/linalg.c passes the choice to the device in nbk_gemm_args.tf32); the CPU's
 * products are float32 in every setting. */
#include "precision.h"

#include "error.h"

#include <stdatomic.h>
#include <string.h>

static const char *const names[] = {"highest", "high", "medium"};
static atomic_int current; /* an index into names; 0 ("highest") until set */

nb_status nb_set_float32_matmul_precision(const char *precision)
{
    if (!precision)
        return nb__fail_status(NB_ERR_ARGUMENT, "nb_set_float32_matmul_precision: precision is NULL; expected "
                                                "\"highest\", \"high\" or \"medium\"");
    for (int i = 0; i < 3; i++)
        if (strcmp(precision, names[i]) == 0) {
            atomic_store(&current, i);
            return NB_OK;
        }
    return nb__fail_status(NB_ERR_ARGUMENT,
                           "nb_set_float32_matmul_precision: unknown precision \"%s\"; expected \"highest\", "
                           "\"high\" or \"medium\"",
                           precision);
}

const char *nb_get_float32_matmul_precision(void) { return names[atomic_load(&current)]; }

bool nb__float32_matmul_tf32(void) { return atomic_load(&current) != 0; }
