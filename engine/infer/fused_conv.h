// A convolution of the inference path: batch norm folded into its weights and bias, the bias, the
// residual and the ReLU fused into the pass that writes the output.
//   y = relu?(conv(x, w) + bias + residual?)
//   x: (N, H, W, C) f32;  w: (O, KH, KW, C) OHWI;  bias: (O);  residual, y: (N, OH, OW, O)
// CPU: the weights are packed once for the packed-GEMM microkernel (kernels/gemm_packed.h), which
// adds the epilogue to each tile while it is in registers. 3x3 stride-1 layers (at least 16
// channels each side) whose images hold enough 2x2 tiles go through Winograd F(2x2, 3x3) with the
// 16 transformed filters packed, the epilogue fused into the output transform; every other layer
// packs im2col rows (the input rows themselves for 1x1 stride-1) chunk by chunk. The GPU runs the
// same folded weights through cuDNN (engine/infer/gpu_conv.h).
#pragma once

#include "engine/core/tensor.h"
#include "engine/infer/scratch.h"
#include "kernels/gemm_packed.h"

namespace lumen {

class FusedConv {
 public:
  // weight: (O, KH, KW, C) f32 OHWI (square kernel); bias: (O) f32; both on the CPU.
  FusedConv(const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding, bool relu);

  int64_t in_channels() const { return in_c_; }
  int64_t out_channels() const { return out_c_; }
  int64_t kernel() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return padding_; }
  bool relu() const { return relu_; }
  int64_t out_size(int64_t in) const { return (in + 2 * padding_ - kernel_) / stride_ + 1; }
  const Tensor& weight() const { return weight_; }  // folded, OHWI f32
  const Tensor& bias() const { return bias_; }      // folded, (O) f32

  // Whether an (N, H, W) input takes Winograd (else the direct path).
  bool uses_winograd(int64_t n, int64_t h, int64_t w) const;

  // The forward on `threads` OpenMP threads; y is overwritten, residual may be null.
  //   x: (N, H, W, C);  residual, y: (N, OH, OW, O), f32 on the CPU
  void run_cpu(const float* x, int64_t n, int64_t h, int64_t w, const float* residual, float* y,
               InferScratch& scratch, int threads) const;

 private:
  void run_direct(const float* x, int64_t n, int64_t h, int64_t w, const float* residual, float* y,
                  InferScratch& scratch, int threads) const;
  void run_winograd(const float* x, int64_t n, int64_t h, int64_t w, const float* residual,
                    float* y, InferScratch& scratch, int threads) const;

  Tensor weight_, bias_;
  int64_t in_c_, out_c_, kernel_, stride_, padding_;
  bool relu_;
  const kernels::GemmKernel* gemm_;
  Tensor packed_;           // (O, KH*KW*C) packed for the microkernel
  Tensor packed_winograd_;  // 16 x (O, C) packed, Winograd layers only
};

}  // namespace lumen
