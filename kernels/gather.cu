#include "kernels/gather.h"
#include "kernels/launch.cuh"

namespace lumen::kernels {

// One block per gathered row (grid-strided over rows); threads copy 16 bytes at a time when the
// rows allow it, else bytes.
template <typename Word>
__global__ void gather_rows_kernel(const Word* src, int64_t row_words, const int64_t* indices,
                                   int64_t count, Word* dst) {
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    const Word* from = src + indices[r] * row_words;
    Word* to = dst + r * row_words;
    for (int64_t w = threadIdx.x; w < row_words; w += blockDim.x) to[w] = from[w];
  }
}

__global__ void gather_i64_kernel(const int64_t* values, const int64_t* indices, int64_t count,
                                  int64_t* dst) {
  LUMEN_GRID_STRIDE(i, count) dst[i] = values[indices[i]];
}

void gather_rows_cuda(const uint8_t* src, int64_t row_bytes, const int64_t* indices,
                      int64_t count, uint8_t* dst, cudaStream_t stream) {
  if (count == 0 || row_bytes == 0) return;
  const unsigned blocks = unsigned(count < 65535 ? count : 65535);
  const bool wide = row_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(src) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(dst) % 16 == 0;
  if (wide) {
    gather_rows_kernel<<<blocks, kBlock, 0, stream>>>(reinterpret_cast<const uint4*>(src),
                                                      row_bytes / 16, indices, count,
                                                      reinterpret_cast<uint4*>(dst));
  } else {
    gather_rows_kernel<<<blocks, kBlock, 0, stream>>>(src, row_bytes, indices, count, dst);
  }
  LUMEN_LAUNCH_CHECK();
}

void gather_i64_cuda(const int64_t* values, const int64_t* indices, int64_t count, int64_t* dst,
                     cudaStream_t stream) {
  if (count == 0) return;
  gather_i64_kernel<<<grid_for(count), kBlock, 0, stream>>>(values, indices, count, dst);
  LUMEN_LAUNCH_CHECK();
}

}  // namespace lumen::kernels
