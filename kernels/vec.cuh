// 16-byte vectors for memory-bound kernels (include from .cu files only): one load or store moves
// kVec<T> elements (8 bf16/f16, 4 float, 2 double). Kernels take the vector path when the element
// count and every pointer allow it, and a scalar path (V = 1) otherwise.
#pragma once

#include <cstdint>
#include <initializer_list>

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
__device__ __forceinline__ Vec<T, V> load_vec_or(const T* base, int64_t i,
                                                 const Vec<T, V>& absent) {
  return base != nullptr ? load_vec<V>(base + i) : absent;
}
template <int V, typename T>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// True when p (null counts as aligned) starts on a 16-byte boundary.
inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// The vector width a pass may use: kVec<T> when n (an element count, or the row length of rows
// walked in vectors) is a multiple of it and every pointer is 16-byte aligned, else 1.
template <typename T>
int vec_width(int64_t n, std::initializer_list<const void*> pointers) {
  if (n % kVec<T> != 0) return 1;
  for (const void* p : pointers) {
    if (!aligned16(p)) return 1;
  }
  return kVec<T>;
}

}  // namespace lumen::kernels
