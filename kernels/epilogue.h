// The epilogue of an inference convolution on the GPU, where cuDNN's fused convolution does not
// take the dtype (bf16): y = relu?(y + bias + residual?) in one pass over channel-last rows, in
// place. (On the CPU the epilogue runs inside the GEMM's microkernel, kernels/gemm_packed.h.)
//   y, residual: (M, C) T, T in {float, bf16, f16};  bias: (C) f32;  residual may be null
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename T>
void conv_epilogue_cuda(T* y, const float* bias, const T* residual, bool relu, int64_t m, int64_t c,
                        cudaStream_t stream);

}  // namespace lumen::kernels
