// Gathering whole rows by index: how the data loader picks a batch's images (and labels) out of a
// dataset held in host or GPU memory.
#pragma once

#include <cstdint>

#include "kernels/common.h"

namespace lumen::kernels {

// dst: (count, row_bytes) u8  ←  src: (rows, row_bytes) u8 at rows indices: (count) i64.
// Indices are trusted to lie in [0, rows); callers check them.
void gather_rows_cpu(const uint8_t* src, int64_t row_bytes, const int64_t* indices, int64_t count,
                     uint8_t* dst);
void gather_rows_cuda(const uint8_t* src, int64_t row_bytes, const int64_t* indices,
                      int64_t count, uint8_t* dst, cudaStream_t stream);

// dst: (count) i64  ←  values: (n) i64 at indices: (count) i64.
void gather_i64_cuda(const int64_t* values, const int64_t* indices, int64_t count, int64_t* dst,
                     cudaStream_t stream);

}  // namespace lumen::kernels
