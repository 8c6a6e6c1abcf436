/* autocast.h — the casts autocast makes (lib/autocast.c), called once at the top of each op on
 * its lists, as PyTorch's autocast wrappers are:
 *
 *     nb__autocast ac;
 *     if (nb__autocast_lower(&ac, NB__AUTOCAST_ALL, 2, (const nb_tensor *[]){a, b}))
 *         return nb__autocast_done(&ac, nb_mm(ac.t[0], ac.t[1]));
 *
 * When a region is enabled for the device type of the inputs, the op calls itself again with the
 * cast inputs; autocast is off (for this thread) until nb__autocast_done, so the op's own inner
 * ops run in the dtypes they are given. */
#ifndef NB_AUTOCAST_H
#define NB_AUTOCAST_H

#include "tensor.h"

/* The device types whose autocast lists name an op (PyTorch's lists differ per device type). */
enum { NB__AUTOCAST_CPU = 1, NB__AUTOCAST_CUDA = 2, NB__AUTOCAST_ALL = 3 };
enum { NB__AUTOCAST_MAX = 8 }; /* the most tensor inputs of an op on the lists */

typedef struct nb__autocast {
    nb_tensor *t[NB__AUTOCAST_MAX]; /* the inputs, cast or retained (NULL for NULL) */
    int n;
} nb__autocast;

/* Whether the lower-precision policy applies: a region is enabled for the inputs' device type
 * (one in devices), and no autocast op is running on this thread. Then ac->t holds the n inputs,
 * float16/bfloat16/float32 ones cast to the region's dtype (float64 and the others as they are),
 * and autocast is off until nb__autocast_done. */
bool nb__autocast_lower(nb__autocast *ac, unsigned devices, int n, const nb_tensor *const *in);
/* The same for the float32 policy: float16 and bfloat16 inputs widened to float32. */
bool nb__autocast_fp32(nb__autocast *ac, unsigned devices, int n, const nb_tensor *const *in);
/* Releases ac's tensors, turns autocast back on and returns result. */
nb_tensor *nb__autocast_done(nb__autocast *ac, nb_tensor *result);
/* Whether an enabled region covers device type (for ops an enabled region refuses). */
bool nb__autocast_active(nb_device_type device);

/* Autocast off on this thread while autograd runs a backward pass (nestable): PyTorch's backward
 * ops run in the dtypes their forward ops had. */
void nb__autocast_suspend(void);
void nb__autocast_resume(void);
/* Tests: how many parameter casts this thread's regions hold. */
int nb__autocast_cache_size(void);

#endif /* NB_AUTOCAST_H */
