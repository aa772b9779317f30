#include "kernels/gemm_packed.h"

namespace lumen::kernels {

namespace {

const GemmKernel kAvx512{"avx512", 6, 64, gemm_run_avx512};
const GemmKernel kAvx2{"avx2", 6, 16, gemm_run_avx2};
const GemmKernel kGeneric{"generic", 6, 8, gemm_run_generic};

bool has_avx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
bool has_avx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

std::vector<const GemmKernel*> gemm_kernels() {
  std::vector<const GemmKernel*> out;
  if (has_avx512()) out.push_back(&kAvx512);
  if (has_avx2()) out.push_back(&kAvx2);
  out.push_back(&kGeneric);
  return out;
}

const GemmKernel& gemm_kernel() {
  static const GemmKernel* best = gemm_kernels().front();
  return *best;
}

void pack_b_cpu(const float* b, int64_t n, int64_t k, int nr, float* out) {
  const int64_t panels = gemm_panels(n, nr);
#pragma omp parallel for schedule(static) if (n * k > 65536)
  for (int64_t j = 0; j < panels; ++j) {
    float* panel = out + j * k * nr;
    for (int64_t p = 0; p < k; ++p) {
      for (int i = 0; i < nr; ++i) {
        const int64_t col = j * nr + i;
        panel[p * nr + i] = col < n ? b[col * k + p] : 0.0f;
      }
    }
  }
}

}  // namespace lumen::kernels
