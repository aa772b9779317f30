// Element types of tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/half.cuh"

namespace lumen {

enum class DType : uint8_t { f32, f64, bf16, f16, u8, i32, i64 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::bf16:
      return 2;
    case DType::f16:
      return 2;
    case DType::u8:
      return 1;
    case DType::i32:
      return 4;
    case DType::i64:
      return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::bf16:
      return "bf16";
    case DType::f16:
      return "f16";
    case DType::u8:
      return "u8";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
  }
  return "?";
}

inline bool dtype_is_float(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::bf16 || t == DType::f16;
}

// C++ type of a dtype, for dispatch: DTypeOf<float>::value == DType::f32.
template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct DTypeOf<bf16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct DTypeOf<f16> {
  static constexpr DType value = DType::f16;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::u8;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct DTypeOf<int64_t> {
  static constexpr DType value = DType::i64;
};

// Calls fn(T{}) with T the C++ type of a floating dtype; throws for other dtypes.
template <typename Fn>
decltype(auto) dispatch_float(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
    case DType::bf16:
      return fn(bf16{});
    case DType::f16:
      return fn(f16{});
    default:
      break;
  }
  LUMEN_FAIL(op, ": dtype ", dtype_name(t), " is not supported (use f32, f64, bf16 or f16)");
}

// Calls fn(T{}) with T the C++ type of any dtype.
template <typename Fn>
decltype(auto) dispatch_all(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32:
      return fn(float{});
    case DType::f64:
      return fn(double{});
    case DType::bf16:
      return fn(bf16{});
    case DType::f16:
      return fn(f16{});
    case DType::u8:
      return fn(uint8_t{});
    case DType::i32:
      return fn(int32_t{});
    case DType::i64:
      return fn(int64_t{});
  }
  LUMEN_FAIL("unknown dtype ", int(t));
}

}  // namespace lumen

// Runs a CUDA launcher call in CUDA builds; in CPU-only builds (where no CUDA tensor can exist)
// the branch throws instead of referring to launchers that were not compiled.
#if defined(LUMEN_WITH_CUDA)
#define LUMEN_ON_CUDA(...) __VA_ARGS__
#else
#define LUMEN_ON_CUDA(...) LUMEN_FAIL("this Lumen was built without CUDA; use device=cpu")
#endif
