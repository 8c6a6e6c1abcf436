/* epoch_times.h — reading the per-epoch lines that the Fashion-MNIST samples and their PyTorch
 * script print ("epoch 2/3: train loss 0.3558, test accuracy: 86.33%, 0.91 s"), for the
 * benchmarks that compare whole training epochs. */
#ifndef NB_BENCH_EPOCH_TIMES_H
#define NB_BENCH_EPOCH_TIMES_H

#include <stdbool.h>

/* Prints "who: warm-up T s; epochs T T  (loss L, test accuracy A%)" from a run's output and
 * returns its best epoch after the first (the warm-up), or -1 (after a message naming who) when
 * the output has no such epoch. */
double epoch_times_best(const char *who, const char *out);

/* Whether python (a path) can import torch. */
bool epoch_times_have_torch(const char *python);

#endif /* NB_BENCH_EPOCH_TIMES_H */
