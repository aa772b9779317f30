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
//   dy: (N, OH, OW, O);  w: (O, KH, KW, C);  dx: (N, H, W, C)
void conv2d_backward_data_cudnn(const Tensor& dy, const Tensor& w, Tensor& dx, int64_t stride,
                                int64_t padding);
//   x: (N, H, W, C);  dy: (N, OH, OW, O);  dw: (O, KH, KW, C)
void conv2d_backward_filter_cudnn(const Tensor& x, const Tensor& dy, Tensor& dw, int64_t stride,
                                  int64_t padding);

}  // namespace lumen
