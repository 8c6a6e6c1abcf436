/* conv_shapes.h — the 3x3 convolutions (padding 1) that the convolution benchmarks measure on
 * each device: fashion_cnn's two layers at batch 128 and a ResNet-style 64 -> 64 at 56x56. */
#ifndef NB_BENCH_CONV_SHAPES_H
#define NB_BENCH_CONV_SHAPES_H

#include <stdint.h>

typedef struct conv_shape {
    const char *what;
    int64_t n, c, h, w, o; /* input (n, c, h, w), o output channels */
} conv_shape;

static const conv_shape conv_shapes[] = {
    {"(128, 1, 28, 28) -> 32", 128, 1, 28, 28, 32},
    {"(128, 32, 14, 14) -> 64", 128, 32, 14, 14, 64},
    {"(32, 64, 56, 56) -> 64 (ResNet)", 32, 64, 56, 56, 64},
};
#define CONV_SHAPE_COUNT (sizeof conv_shapes / sizeof conv_shapes[0])

#endif /* NB_BENCH_CONV_SHAPES_H */
