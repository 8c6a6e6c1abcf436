/* backward.h — the backward formula of every node kind (the table in kinds.c names them): each
 * gets the gradient g of the node's output and writes the gradient of each input that needs one
 * (before broadcasting is undone: the engine sums each back to its input's shape and dtype).
 * They run in no-grad mode. */
#ifndef NB_AUTOGRAD_BACKWARD_H
#define NB_AUTOGRAD_BACKWARD_H

#include "node.h"

/* elementwise (backward_ewise.c) */
nb_status nb__backward_pass(nb_node *n, nb_tensor *g, nb_tensor **gi); /* g to every input */
nb_status nb__backward_neg(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_abs(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_exp(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_log(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_sqrt(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_sigmoid(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_tanh(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_relu(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_clamp(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_mul_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_div_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_pow_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_square(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_sub(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_mul(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_div(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_pow(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_maximum(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_minimum(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_axpy(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_masked_fill(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_where(nb_node *n, nb_tensor *g, nb_tensor **gi);

/* activations, math, rounding and lerp (backward_math.c) */
nb_status nb__backward_gelu(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_silu(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_leaky_relu(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_softplus(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_erf(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_sin(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_cos(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_log1p(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_expm1(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_rsqrt(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_reciprocal(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_zero(nb_node *n, nb_tensor *g, nb_tensor **gi); /* floor, ceil, round, sign */
nb_status nb__backward_lerp(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_lerp_scalar(nb_node *n, nb_tensor *g, nb_tensor **gi);

/* views, copies, cat, fill (backward_shape.c) */
nb_status nb__backward_reshape(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_permute(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_narrow(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_select(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_expand(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_clone(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_copy(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_fill(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_cat(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_to(nb_node *n, nb_tensor *g, nb_tensor **gi);

/* reductions and products (backward_reduce.c) */
nb_status nb__backward_sum(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_mean(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_extreme(nb_node *n, nb_tensor *g, nb_tensor **gi); /* max and min */
/* reductions over dims, products, scans and top-k (backward_reduce_dims.c) */
nb_status nb__backward_sum_dims(nb_node *n, nb_tensor *g, nb_tensor **gi); /* sum and mean */
nb_status nb__backward_amax(nb_node *n, nb_tensor *g, nb_tensor **gi);     /* amax and amin */
nb_status nb__backward_prod(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_cumsum(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_topk(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_logsumexp(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_var(nb_node *n, nb_tensor *g, nb_tensor **gi); /* var and std */
nb_status nb__backward_vector_norm(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_mm(nb_node *n, nb_tensor *g, nb_tensor **gi);      /* mm and bmm */

/* nn (lib/nn/softmax.c, lib/nn/loss.c) */
nb_status nb__backward_softmax(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_log_softmax(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_cross_entropy(nb_node *n, nb_tensor *g, nb_tensor **gi);
/* layer and RMS norm (lib/nn/norm.c) */
nb_status nb__backward_norm(nb_node *n, nb_tensor *g, nb_tensor **gi);
/* batch norm (lib/nn/batch_norm.c) */
nb_status nb__backward_batch_norm(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_dropout(nb_node *n, nb_tensor *g, nb_tensor **gi); /* lib/nn/dropout.c */

/* indexing (backward_index.c) */
nb_status nb__backward_index_select(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_gather(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_scatter(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_scatter_add(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_index_add(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_embedding(nb_node *n, nb_tensor *g, nb_tensor **gi);
/* lib/nn/conv.c */
nb_status nb__backward_im2col(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_col2im(nb_node *n, nb_tensor *g, nb_tensor **gi);
nb_status nb__backward_convolution(nb_node *n, nb_tensor *g, nb_tensor **gi); /* lib/nn/conv_whole.c */

/* 2-D pooling: max, average and adaptive average (lib/nn/pool.c) */
nb_status nb__backward_pool2d(nb_node *n, nb_tensor *g, nb_tensor **gi);
/* scaled dot-product attention (lib/nn/attention.c) */
nb_status nb__backward_attention(nb_node *n, nb_tensor *g, nb_tensor **gi);

#endif /* NB_AUTOGRAD_BACKWARD_H */
