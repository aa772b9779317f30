// 16-byte vectors for memory-bound kernels (include from .cu files only): one load or store moves
// kVec<T> elements (8 bf16/f16, 4 float, 2 double). Kernels take the vector path when the element
// count and every pointer allow it, and a scalar path (V = 1) otherwise.
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

template <typename T>
constexpr int kVec = 16 / int(sizeof(T));

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <int V, typename T>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}
// An optional input: its vector at p, or `absent` when the pointer is null (the value is unused).
template <int V, typename T>
__device__ __forceinline__ Vec<T, V> load_vec_or(const T* base, int64_t i, const Vec<T, V>& absent) {
  return base != nullptr ? load_vec<V>(base + i) : absent;
}
template <int V, typename T>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// True when p (null counts as aligned) starts on a 16-byte boundary.
inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace lumen::kernels
