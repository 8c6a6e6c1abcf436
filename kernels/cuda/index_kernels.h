/* index_kernels.h — the CUDA index kernels behind the CUDA table (index.cu): the gather and the
 * scatter of kernels/index.h, on device addresses. Each queues its kernel and returns without
 * waiting; an index out of range is recorded in the device's fault record under op's name and
 * reported at the next synchronisation. */
#ifndef NB_KERNELS_CUDA_INDEX_KERNELS_H
#define NB_KERNELS_CUDA_INDEX_KERNELS_H

#include "../error.h"
#include "../index.h"

#ifdef __cplusplus
extern "C" {
#endif

nb_status nbk_cuda_index_gather(int device, const char *op, const nbk_index_args *a);
nb_status nbk_cuda_index_scatter(int device, const char *op, const nbk_index_args *a, bool add);

#ifdef __cplusplus
}
#endif

#endif /* NB_KERNELS_CUDA_INDEX_KERNELS_H */
