/* kinds.h — every kind of autograd node nabla records, the arguments each keeps for its backward,
 * and the one table (kinds.c) that gives each kind its name, its backward and the tensors it
 * saves. Adding a differentiable op adds a kind here, its row there, and its backward in one of
 * the backward_*.c files (declared in backward.h). */
#ifndef NB_AUTOGRAD_KINDS_H
#define NB_AUTOGRAD_KINDS_H

#include "../../kernels/ops.h"
#include "nabla.h"

struct nb_node;

/* Computes the gradients of a node's inputs from the gradient of its output: grad_inputs[i] is
 * set to a new tensor shaped like input i, or left NULL (no gradient). */
typedef nb_status (*nb_backward_fn)(struct nb_node *n, nb_tensor *grad_output, nb_tensor **grad_inputs);

typedef enum nb_node_kind {
    NB_NODE_NONE = 0,  /* not a node: an op with no gradient (comparisons) */
    NB_NODE_ACCUMULATE, /* a leaf's: adds the gradient into its .grad */
    /* elementwise (args.scalars) */
    NB_NODE_NEG,
    NB_NODE_ABS,
    NB_NODE_EXP,
    NB_NODE_LOG,
    NB_NODE_SQRT,
    NB_NODE_SIGMOID,
    NB_NODE_TANH,
    NB_NODE_RELU,
    NB_NODE_CLAMP,
    NB_NODE_ADD_SCALAR,
    NB_NODE_MUL_SCALAR,
    NB_NODE_DIV_SCALAR,
    NB_NODE_RSUB_SCALAR,
    NB_NODE_POW_SCALAR,
    NB_NODE_SQUARE,
    NB_NODE_ADD,
    NB_NODE_SUB,
    NB_NODE_MUL,
    NB_NODE_DIV,
    NB_NODE_POW,
    NB_NODE_MAXIMUM,
    NB_NODE_MINIMUM,
    NB_NODE_AXPY,
    NB_NODE_MASKED_FILL,
    NB_NODE_WHERE,
    NB_NODE_GELU,
    NB_NODE_SILU,
    NB_NODE_LEAKY_RELU,
    NB_NODE_SOFTPLUS,
    NB_NODE_ERF,
    NB_NODE_SIN,
    NB_NODE_COS,
    NB_NODE_LOG1P,
    NB_NODE_EXPM1,
    NB_NODE_RSQRT,
    NB_NODE_RECIPROCAL,
    NB_NODE_FLOOR, /* floor, ceil, round and sign: a zero gradient, as PyTorch's */
    NB_NODE_CEIL,
    NB_NODE_ROUND,
    NB_NODE_SIGN,
    NB_NODE_LERP,
    NB_NODE_LERP_SCALAR,
    /* views, copies, cat */
    NB_NODE_RESHAPE, /* any view keeping the elements' order: reshape, squeeze, unsqueeze, alias */
    NB_NODE_PERMUTE, /* args.permute */
    NB_NODE_NARROW,  /* args.narrow */
    NB_NODE_SELECT,  /* args.select */
    NB_NODE_EXPAND,
    NB_NODE_CLONE,   /* clone, contiguous, to_dtype */
    NB_NODE_COPY,    /* copy_ into a tensor with history */
    NB_NODE_FILL,    /* fill_: cuts the gradient */
    NB_NODE_CAT,     /* args.cat */
    NB_NODE_TO,      /* nb_to between devices */
    /* reductions (args.reduce) and products (args.mm) */
    NB_NODE_SUM,
    NB_NODE_MEAN,
    NB_NODE_MAX,
    NB_NODE_MIN,
    NB_NODE_SUM_DIMS,  /* args.dims */
    NB_NODE_MEAN_DIMS,
    NB_NODE_AMAX,
    NB_NODE_AMIN,
    NB_NODE_PROD,      /* args.reduce */
    NB_NODE_CUMSUM,    /* args.reduce (its dim) */
    NB_NODE_TOPK,      /* args.reduce (its dim) */
    NB_NODE_LOGSUMEXP, /* args.stat */
    NB_NODE_VAR,
    NB_NODE_STD,
    NB_NODE_NORM,      /* args.stat, its correction holding p */
    NB_NODE_MM,
    NB_NODE_BMM,
    /* nn (args.softmax) */
    NB_NODE_SOFTMAX,
    NB_NODE_LOG_SOFTMAX,
    NB_NODE_CROSS_ENTROPY,
    NB_NODE_LAYER_NORM, /* args.norm */
    NB_NODE_RMS_NORM,   /* args.norm */
    NB_NODE_BATCH_NORM, /* args.batch_norm */
    NB_NODE_NLL_LOSS,   /* args.xent (as CrossEntropyBackward's, which also keeps them) */
    NB_NODE_DROPOUT,    /* the scaled mask in saved[1] */
    /* indexing (args.index; slot 0 saves the int64 index) */
    NB_NODE_INDEX_SELECT,
    NB_NODE_GATHER,
    NB_NODE_SCATTER,
    NB_NODE_SCATTER_ADD,
    NB_NODE_INDEX_ADD,
    NB_NODE_EMBEDDING,
    /* convolution's columns (args.conv; each the other's adjoint) */
    NB_NODE_IM2COL,
    NB_NODE_COL2IM,
    NB_NODE_CONVOLUTION, /* args.conv; the input and weight saved */
    /* 2-D pooling (args.pool) */
    NB_NODE_MAX_POOL2D, /* slot 0 saves the int64 indices */
    NB_NODE_AVG_POOL2D,
    NB_NODE_ADAPTIVE_AVG_POOL2D,
    NB_NODE_ATTENTION, /* args.attention; q, k, v, the output, lse and the mask saved */
    NB_NODE_KIND_COUNT
} nb_node_kind;

/* What a node keeps of its op's arguments: one member per family of kinds. */
typedef union nb_node_args {
    struct { double a, b; } scalars;                 /* elementwise: clamp's bounds, pow's exponent, axpy's alpha */
    struct { int perm[NB_MAX_DIMS]; } permute;       /* output dim i is input dim perm[i] */
    struct { int dim; int64_t start, length; } narrow;
    struct { int dim; int64_t index; } select;       /* dim is dropped */
    struct { int dim; } cat;
    struct { int dim; bool keepdim; } reduce;        /* dim < 0: over every element */
    struct { uint32_t mask; bool keepdim; } dims;    /* bit i: input dim i is reduced */
    struct { uint32_t mask; bool keepdim; double correction; } stat; /* var's correction */
    struct { bool column_major[2]; } mm;             /* each input's layout, for its gradient's */
    struct { int dim; } softmax;
    struct { int64_t rows, cols; bool has_weight, has_bias; } norm; /* x as (rows, cols); weight, bias follow x */
    struct { int64_t n, c, s; bool has_weight, has_bias, training; } batch_norm; /* x as (n, c, s) */
    struct { int64_t ignore_index; double smoothing; int reduction; bool ignore, log_probs, has_weight; } xent;
    struct { int dim; double alpha; int64_t padding_idx; } index; /* padding_idx < 0: none */
    /* the image (h, w), window, stride, top/left padding, dilation and windows (kernels/conv.h);
     * a whole convolution's groups and whether it has a bias */
    struct { int64_t h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, groups; bool has_bias; } conv;
    struct { int kernel[2], stride[2], padding[2], dilation[2]; bool count_include_pad; int64_t divisor; } pool;
    /* q, k, v folded to (batch, l, e), (batch, s, e), (batch, s, ev); the rest as kernels/attention.h */
    struct { int64_t batch, l, s, e, ev, mask_bs; double scale, dropout_p; uint64_t seed, offset; bool causal, has_mask; } attention;
} nb_node_args;

#define NB_NODE_MAX_SAVED 6
#define NB_SAVED_INPUT2 "input 2"

typedef struct nb_node_def {
    const char *name;        /* "MulBackward" */
    nb_backward_fn backward; /* NULL for the accumulate node (the engine adds into .grad) */
    /* what each saved slot holds (NULL: nothing). Elementwise kinds save input 0 in slot 0,
     * input 1 in slot 1 and the output in slot 2, as named here; a ternary op's kind whose slot 2
     * is named NB_SAVED_INPUT2 saves its third input there instead (lerp's weight). */
    const char *saved[NB_NODE_MAX_SAVED];
} nb_node_def;

/* The table, indexed by kind. */
extern const nb_node_def nb_node_defs[NB_NODE_KIND_COUNT];
/* The kind each elementwise op records (NB_NODE_NONE for those with no gradient). */
extern const nb_node_kind nb_ew_node_kinds[NB_EW_COUNT];

#endif /* NB_AUTOGRAD_KINDS_H */
