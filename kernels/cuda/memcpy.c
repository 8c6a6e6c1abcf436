/* memcpy.c — copies between the host and a device and between devices, queued on the devices'
 * streams; a copy to the host waits for it (and for everything queued before it). */
#include "internal.h"

#include <stdio.h>

nb_status nbk_cuda_to_device(int device, void *dst, const void *host_src, size_t bytes)
{
    if (bytes == 0) return NB_OK;
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st == NB_OK) st = nbk_cuda_refuse_in_capture(device, "a copy from the host");
    if (st != NB_OK) return st;
    /* from pageable memory the call returns once the source has been read (staged) */
    return nbk_cuda_check(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream), device,
                         "copying to the device (cudaMemcpyAsync)");
}

nb_status nbk_cuda_to_host(int device, void *host_dst, const void *src, size_t bytes)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st == NB_OK) st = nbk_cuda_refuse_in_capture(device, "a read back to the host");
    if (st != NB_OK) return st;
    if (bytes > 0) {
        st = nbk_cuda_check(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream),
                           device, "copying to the host (cudaMemcpyAsync)");
        if (st != NB_OK) return st;
    }
    /* an error from an earlier kernel on this stream surfaces here */
    return nbk_cuda_wait(device, stream);
}

nb_status nbk_cuda_device_to_device(int dst_device, void *dst, int src_device, const void *src,
                                   size_t bytes)
{
    if (bytes == 0) return NB_OK;
    cudaStream_t dst_stream, src_stream;
    nb_status st = nbk_cuda_use(dst_device, &dst_stream);
    if (st != NB_OK) return st;
    if (src_device == dst_device)
        return nbk_cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, dst_stream),
                             dst_device, "copying on the device (cudaMemcpyAsync)");
    st = nbk_cuda_refuse_in_capture(dst_device, "a copy between devices");
    if (st == NB_OK) st = nbk_cuda_refuse_in_capture(src_device, "a copy between devices");
    if (st != NB_OK) return st;
    /* between devices: both streams are drained first, so neither block can be in use by work
     * queued earlier, and the copy is waited for, so the source may be reused at once */
    st = nbk_cuda_wait(dst_device, dst_stream);
    if (st == NB_OK) st = nbk_cuda_use(src_device, &src_stream);
    if (st == NB_OK) st = nbk_cuda_wait(src_device, src_stream);
    if (st == NB_OK) {
        char what[96];
        snprintf(what, sizeof what, "copying from cuda:%d to cuda:%d (cudaMemcpyPeerAsync)", src_device,
                 dst_device);
        st = nbk_cuda_check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, src_stream),
                           src_device, what);
    }
    if (st == NB_OK) st = nbk_cuda_wait(src_device, src_stream);
    return st;
}

nb_status nbk_cuda_synchronize(int device)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st == NB_OK) st = nbk_cuda_refuse_in_capture(device, "waiting for the device");
    if (st != NB_OK) return st;
    return nbk_cuda_wait(device, stream);
}

nb_status nbk_cuda_synchronize_all(int device)
{
    cudaStream_t stream;
    nb_status st = nbk_cuda_use(device, &stream);
    if (st == NB_OK) st = nbk_cuda_refuse_in_capture(device, "waiting for the device");
    if (st == NB_OK) st = nbk_cuda_wait(device, stream); /* nabla's own faults are reported as usual */
    if (st != NB_OK) return st;
    return nbk_cuda_check(cudaDeviceSynchronize(), device, "cudaDeviceSynchronize");
}
