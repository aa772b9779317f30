// f32 GEMM on the CPU for inference, with the weights packed once and the epilogue fused:
//   C = act(A @ B^T + bias + residual)
//   A: (M, K) activations at row stride lda (im2col rows, Winograd-domain tiles, or the input
//      rows of a 1x1 convolution themselves), read in place
//   B: (N, K) weights (a convolution's OHWI filters viewed as (O, KH*KW*C)), packed once
// A microkernel keeps an MR x NR tile of C in vector registers for the whole K loop (each step:
// NR / VW vector loads of B, MR broadcasts of A), then adds the bias and the residual, applies
// the ReLU and stores the tile: C is written once and never read back. Three builds of the
// microkernel, picked at run time by what the CPU has:
//   avx512: MR 6, NR 64 (24 zmm accumulators)   avx2: MR 6, NR 16   generic (SSE2): MR 6, NR 8
// (MR 6 x NR 64 with A in place measured 250 GFLOP/s a core on a Zen 5, where 14 x 32 needed A
// packed first, which cost a third as much as the GEMM on 64-channel layers.)
// Packed B: ceil(N / NR) panels of NR columns; panel j holds (K, NR): b[(j * K + p) * NR + i] =
// B[j * NR + i, p], zero past N. The last panel's tile loads only the vectors that hold columns.
// Single-threaded; callers split the rows and panels across threads. Each element of C is one
// sum in K order, so results do not depend on how the work is split.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/gemm_call.h"

namespace lumen::kernels {

struct GemmKernel {
  const char* isa;  // "avx512", "avx2", "generic"
  int mr, nr;
  void (*run)(const GemmCall& call);
};

// The fastest build this CPU runs (the first of gemm_kernels()).
const GemmKernel& gemm_kernel();
// Every build this CPU runs, fastest first (tests compare them).
std::vector<const GemmKernel*> gemm_kernels();

inline int64_t gemm_panels(int64_t n, int nr) { return (n + nr - 1) / nr; }
// Floats of packed B.
inline int64_t packed_b_size(int64_t n, int64_t k, int nr) { return gemm_panels(n, nr) * nr * k; }

//   b: (N, K) row-major  ->  out: packed_b_size(n, k, nr) floats
void pack_b_cpu(const float* b, int64_t n, int64_t k, int nr, float* out);

// Each build's entry point (gemm_packed_{avx512,avx2,generic}_cpu.cpp).
void gemm_run_avx512(const GemmCall& call);
void gemm_run_avx2(const GemmCall& call);
void gemm_run_generic(const GemmCall& call);

}  // namespace lumen::kernels
