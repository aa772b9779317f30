// The bottom floor of Lumen: the one header every kernel file includes.
//   LUMEN_HD           marks math shared by CUDA kernels and CPU loops (empty without nvcc)
//   LUMEN_VECTOR_CLONES  builds a CPU loop for AVX-512 and AVX2 too, picked at load time
//   lumen::Error       the one exception type; names the failed call, file:line and the message
//   LUMEN_CHECK        argument checks that throw lumen::Error
//   LUMEN_CUDA_CHECK   checks a cudaError_t; LUMEN_LAUNCH_CHECK follows every kernel launch
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

#if defined(__CUDACC__)
#define LUMEN_HD __host__ __device__ __forceinline__
#else
#define LUMEN_HD inline
#endif

// For loops of independent lanes that stay in cache (the Winograd transforms), where wider
// vectors pay (on col2im they did not measurably); the default build targets baseline x86-64
// (SSE2). Only for loops without a*b+c (GCC would fuse those in the AVX clones and round
// differently from the baseline build).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define LUMEN_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LUMEN_VECTOR_CLONES
#endif

#if defined(LUMEN_WITH_CUDA)
#include <cuda_runtime_api.h>
#else
// Launcher declarations name the stream type even in CPU-only builds; their definitions exist only
// in CUDA builds.
typedef struct CUstream_st* cudaStream_t;
#endif

namespace lumen {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
[[noreturn]] inline void throw_error(const char* file, int line, const std::string& message) {
  std::ostringstream out;
  out << message << " (" << file << ":" << line << ")";
  throw Error(out.str());
}
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace lumen

// LUMEN_CHECK(cond, "message ", value, ...): throws lumen::Error with the message when cond fails.
#define LUMEN_CHECK(cond, ...)                                                                \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      ::lumen::detail::throw_error(__FILE__, __LINE__, ::lumen::detail::concat(__VA_ARGS__)); \
    }                                                                                         \
  } while (0)

#define LUMEN_FAIL(...) \
  ::lumen::detail::throw_error(__FILE__, __LINE__, ::lumen::detail::concat(__VA_ARGS__))

#if defined(LUMEN_WITH_CUDA)
#define LUMEN_CUDA_CHECK(expr)                                                               \
  do {                                                                                       \
    cudaError_t lumen_status_ = (expr);                                                      \
    if (lumen_status_ != cudaSuccess) {                                                      \
      ::lumen::detail::throw_error(                                                          \
          __FILE__, __LINE__,                                                                \
          ::lumen::detail::concat(#expr, " failed: ", cudaGetErrorName(lumen_status_), " (", \
                                  cudaGetErrorString(lumen_status_), ")"));                  \
    }                                                                                        \
  } while (0)
#define LUMEN_LAUNCH_CHECK() LUMEN_CUDA_CHECK(cudaGetLastError())
#endif
