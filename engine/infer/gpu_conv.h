// A FusedConv's folded weights on one GPU context, for one inference worker: the weights in the
// worker's dtype (OHWI), the bias in f32. run() is cuDNN's fused convolution + bias + ReLU (+
// residual) where cuDNN takes the dtype (f32), else cuDNN's convolution followed by one epilogue
// pass (kernels/epilogue.h). CUDA builds only: elsewhere the constructor says so.
#pragma once

#include <memory>

#include "engine/infer/fused_conv.h"

namespace lumen {

class GpuConv {
 public:
  GpuConv(const FusedConv& conv, const std::shared_ptr<CudaContext>& ctx, DType dtype);
  // x: (N, H, W, C) in the worker's dtype and context; residual: like the output, or undefined
  //   -> (N, OH, OW, O)
  Tensor run(const Tensor& x, const Tensor& residual) const;

 private:
  Tensor weight_, bias_;
  int64_t stride_, padding_;
  bool relu_;
};

// An empty tensor allocated in `ctx` (not the device's default context).
Tensor empty_in_context(const std::shared_ptr<CudaContext>& ctx, const Shape& shape, DType dtype);

}  // namespace lumen
