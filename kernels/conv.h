// Convolution lowering on the CPU for NHWC activations and OHWI filters: im2col gathers every
// receptive field into a row ordered (kh, kw, c), so that conv = cols @ w^T with w viewed as (O,
// KH*KW*C); col2im scatters (adds) such rows back into an image gradient. T in {float, double,
// bf16, f16}. (On the GPU convolutions go through cuDNN: engine/ops/cudnn/.)
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

// The geometry of one 2-D convolution (or pooling window) over NHWC images.
struct ConvGeometry {
  int64_t n, h, w, c;       // input (N, H, W, C)
  int64_t kh, kw;           // window
  int64_t stride, padding;  // same in both spatial dims
  LUMEN_HD int64_t out_h() const { return (h + 2 * padding - kh) / stride + 1; }
  LUMEN_HD int64_t out_w() const { return (w + 2 * padding - kw) / stride + 1; }
  LUMEN_HD int64_t patch() const { return kh * kw * c; }  // one row of cols
};

// cols[(n, oh, ow), (i, j, c)] = x[n, oh*s - p + i, ow*s - p + j, c] (0 outside the image)
//   x: (N, H, W, C) T;  cols: (N*OH*OW, KH*KW*C) T
template <typename T>
void im2col_cpu(const T* x, T* cols, const ConvGeometry& g);

// dx = scatter-add of cols rows into their receptive fields (dx is overwritten)
//   cols: (N*OH*OW, KH*KW*C) T;  dx: (N, H, W, C) T
template <typename T>
void col2im_cpu(const T* cols, T* dx, const ConvGeometry& g);

// The rows [row_begin, row_end) of im2col's matrix, serially (callers split the rows across
// threads and keep the block cache-sized):
//   x: (N, H, W, C) T;  cols: (row_end - row_begin, KH*KW*C) T
template <typename T>
void im2col_rows_cpu(const T* x, T* cols, const ConvGeometry& g, int64_t row_begin,
                     int64_t row_end);

// Adds the rows [row_begin, row_end) of a cols matrix into their receptive fields, serially, in
// row order (so the sums round as col2im_cpu's do):
//   cols: (row_end - row_begin, KH*KW*C) T;  dx: (N, H, W, C) T, accumulated into
template <typename T>
void col2im_add_rows_cpu(const T* cols, T* dx, const ConvGeometry& g, int64_t row_begin,
                         int64_t row_end);

}  // namespace lumen::kernels
