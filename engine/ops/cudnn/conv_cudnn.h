// Convolutions through cuDNN (CUDA builds only): NHWC activations, OHWI ("NHWC") filters,
// cross-correlation, fp32 accumulation (tensor cores for bf16/f16). For each problem (shapes,
// dtype, stride, padding) the algorithm is chosen once with cuDNN's heuristics and cached; the
// workspace is a Tensor from the stream-ordered pool. Outputs are overwritten.
#pragma once

#include "engine/core/tensor.h"

namespace lumen {

//   x: (N, H, W, C);  w: (O, KH, KW, C);  y: (N, OH, OW, O)
void conv2d_forward_cudnn(const Tensor& x, const Tensor& w, Tensor& y, int64_t stride,
                          int64_t padding);
// The inference convolution in one cuDNN call (cudnnConvolutionBiasActivationForward):
//   y = relu?(conv(x, w) + bias + residual?)
// where the legacy API documents the fusion for the dtype (f32; not bf16); returns false, having
// done nothing, otherwise or when cuDNN refuses the problem (remembered per problem).
//   x: (N, H, W, C);  w: (O, KH, KW, C);  bias: (O) f32;  residual: like y, or undefined
bool conv2d_bias_act_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias,
                           const Tensor& residual, bool relu, Tensor& y, int64_t stride,
                           int64_t padding);
//   dy: (N, OH, OW, O);  w: (O, KH, KW, C);  dx: (N, H, W, C)
void conv2d_backward_data_cudnn(const Tensor& dy, const Tensor& w, Tensor& dx, int64_t stride,
                                int64_t padding);
//   x: (N, H, W, C);  dy: (N, OH, OW, O);  dw: (O, KH, KW, C)
void conv2d_backward_filter_cudnn(const Tensor& x, const Tensor& dy, Tensor& dw, int64_t stride,
                                  int64_t padding);

}  // namespace lumen
