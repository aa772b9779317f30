// The CPU convolution behind conv2d for f32 and f64 (bf16 / f16 take the whole-batch im2col path
// in conv.cpp). One OpenMP region per call splits the output rows (N*OH*OW) into blocks; each
// thread lowers its block with im2col into a cache-sized buffer and multiplies it with a
// single-threaded BLAS call (OpenBLAS's OpenMP build runs one thread inside a parallel region), so
// no whole-batch im2col matrix is ever built and BLAS never synchronises threads inside a GEMM.
#pragma once

#include "engine/core/tensor.h"
#include "kernels/conv.h"

namespace lumen {

bool conv2d_cpu_blocked(DType t);  // whether the functions below take this dtype

// y = conv(x, w)
//   x: (N, H, W, C);  w: (O, KH, KW, C);  y: (N, OH, OW, O), overwritten
void conv2d_forward_cpu(const Tensor& x, const Tensor& w, Tensor& y,
                        const kernels::ConvGeometry& g);

// dx = conv's input gradient, dw = its filter gradient; an undefined dx or dw is not computed.
//   dy: (N, OH, OW, O);  dx: like x, overwritten;  dw: like w, overwritten
void conv2d_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                         const kernels::ConvGeometry& g);

}  // namespace lumen
