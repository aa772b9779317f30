// The arguments of one packed-GEMM microkernel call (kernels/gemm_packed.h). A header of plain
// structs, free of the standard library, because the builds of the microkernel for each
// instruction set (gemm_packed_*_cpu.cpp) include it: an inline library function compiled there
// could be linked into code that runs on CPUs without that instruction set.
#pragma once

#include <cstdint>

namespace lumen::kernels {

struct GemmEpilogue {
  const float* bias = nullptr;      // (N), added to every row, or null
  const float* residual = nullptr;  // (M, N) at row stride ldr, added, or null
  int64_t ldr = 0;
  bool relu = false;  // max(0, .) after the additions
};

// One call of a microkernel build: rows [0, m) of C, panels [p0, p1), over a block of k of the
// K columns of A (callers block K so that a panel's block stays in cache; the first block
// overwrites C, later ones accumulate, the last applies the epilogue).
struct GemmCall {
  const float* a = nullptr;  // A: (m, k) at row stride lda, from the block's first column
  int64_t lda = 0, m = 0, k = 0;
  const float* b = nullptr;  // packed B from the block's first row of panel 0
  int64_t panel_stride = 0;  // floats between panels of packed B: K * NR for the whole K
  int64_t n = 0;             // columns of B (and of C)
  int64_t p0 = 0, p1 = 0;    // panels of NR columns to compute
  float* c = nullptr;        // (m, n) at row stride ldc: row 0 of this call
  int64_t ldc = 0;
  bool accumulate = false;  // C += A @ B^T (later K blocks) instead of C =
  GemmEpilogue epilogue;    // residual: row 0 of this call; only on the last K block
};

}  // namespace lumen::kernels
