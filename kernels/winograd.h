// Winograd F(2x2, 3x3) on the CPU: a 3x3, stride-1, padding-1 convolution over NHWC images,
// computed per 2x2 output tile from its 4x4 input tile as
//   Y = A^T [ U ⊙ V ] A,   U = G g G^T (filter),   V = B^T d B (input tile),
// which takes 16 multiplications per tile and channel pair where the direct form takes 36. Summed
// over input channels, the 16 elementwise products become 16 GEMMs: M[ξ] = V[ξ] @ U[ξ].
// Layouts (ξ = one of the 16 positions (a, b) of a 4x4 tile, ξ = 4a + b; tiles numbered over
// (n, tile row, tile col) of the output, ceil(H/2) x ceil(W/2) per image; output size = input
// size):
//   U: (16, K, C) filters   V: (16, tiles, C)   M = V @ U^T: (16, tiles, K)
// The input gradient is the same convolution of dy with the filters flipped and C and K swapped;
// flipping a 3x3 filter swaps rows 0 and 3 (and columns 0 and 3) of G g G^T, so its transformed
// filters are U itself: M'[ξ] = V'[ξ] @ U[flip(ξ)] with V' from dy (tiles, K) and M' (tiles, C).
// The GEMMs run in engine/ops/conv_cpu.cpp; these are the transforms. The filter transform is
// parallel (OpenMP); the input and output transforms are serial (callers split the tiles across
// threads). T in {float, double}.
#pragma once

#include <cstdint>

namespace lumen::kernels {

struct WinogradShape {
  int64_t n, h, w;  // images (N, H, W, ·); the output has the same H and W
  int64_t tiles_h() const { return (h + 1) / 2; }
  int64_t tiles_w() const { return (w + 1) / 2; }
  int64_t tiles() const { return n * tiles_h() * tiles_w(); }
};

// U = G g G^T for every (output channel, input channel) pair.
//   w: (K, 3, 3, C) OHWI;  u: (16, K, C)
template <typename T>
void winograd_filter_transform_cpu(const T* w, int64_t k, int64_t c, T* u);

// The position of the flipped filter's value: flip(4a + b) = 4 f(a) + f(b), f = (3, 1, 2, 0).
inline int winograd_flip(int xi) {
  constexpr int f[4] = {3, 1, 2, 0};
  return 4 * f[xi / 4] + f[xi % 4];
}

// V = B^T d B for the tiles [t0, t1) (zero outside the image).
//   x: (N, H, W, C);  v: (16, stride, C) from tile t0 (position ξ of tile t at
//   v[(ξ * stride + t - t0) * C]); stride = t1 - t0 for a block of its own, more for a block
//   inside the V of more tiles
template <typename T>
void winograd_input_transform_cpu(const T* x, const WinogradShape& s, int64_t c, int64_t t0,
                                  int64_t t1, T* v, int64_t stride);

// Y = A^T m A for the tiles [t0, t1), written into y (the parts of border tiles that fall outside
// the image are dropped).
//   m: (16, t1 - t0, K);  y: (N, H, W, K)
template <typename T>
void winograd_output_transform_cpu(const T* m, const WinogradShape& s, int64_t k, int64_t t0,
                                   int64_t t1, T* y);

// The output transform of inference with its epilogue fused: y = relu?(A^T m A + bias +
// residual) for the tiles [t0, t1), f32.
//   m: (16, stride, K) from tile t0 (as v above);  bias: (K);  residual: like y, or null;
//   y: (N, H, W, K)
void winograd_output_transform_fused_cpu(const float* m, int64_t stride, const WinogradShape& s,
                                         int64_t k, int64_t t0, int64_t t1, float* y,
                                         const float* bias, const float* residual, bool relu);

// The filter gradient in the Winograd domain: with Z = A dY A^T per output-gradient tile,
// dU[ξ] = sum over tiles of Z[ξ]^T V[ξ] (16 GEMMs, run by the caller), then dW = G^T dU G.
//   dy: (N, H, W, K);  z: (16, t1 - t0, K), the tiles [t0, t1) (0 outside the image)
template <typename T>
void winograd_grad_transform_cpu(const T* dy, const WinogradShape& s, int64_t k, int64_t t0,
                                 int64_t t1, T* z);

//   du: (16, K, C);  dw: (K, 3, 3, C), overwritten
template <typename T>
void winograd_filter_grad_cpu(const T* du, int64_t k, int64_t c, T* dw);

}  // namespace lumen::kernels
