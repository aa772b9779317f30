// 16-bit float storage types shared by host and device code.
//   bf16: bfloat16 (8-bit exponent), f16: IEEE binary16. Both are plain 16-bit structs; arithmetic
//   happens in float after to_float(), results are rounded to nearest even by from_float().
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/common.h"

namespace lumen {

struct bf16 {
  uint16_t bits;
};
struct f16 {
  uint16_t bits;
};

LUMEN_HD uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
#endif
}
LUMEN_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, 4);
  return x;
#endif
}

LUMEN_HD float bf16_to_float(bf16 h) { return bits_float(uint32_t(h.bits) << 16); }
LUMEN_HD bf16 float_to_bf16(float x) {
  uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                               // nearest even
  return bf16{uint16_t(u >> 16)};
}

LUMEN_HD float f16_to_float(f16 h) {
  uint32_t sign = uint32_t(h.bits & 0x8000u) << 16;
  uint32_t exp = (h.bits >> 10) & 0x1fu;
  uint32_t man = h.bits & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (man << 13));  // inf / NaN
  if (exp == 0) {
    // zero or subnormal: man * 2^-24
    float v = float(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}
LUMEN_HD f16 float_to_f16(float x) {
  uint32_t u = float_bits(x);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return f16{uint16_t(sign | 0x7e00u)};   // NaN
  if (abs >= 0x477ff000u) return f16{uint16_t(sign | 0x7c00u)};  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {
    // below the smallest normal half (2^-14): subnormal, rounded to nearest even in units of 2^-24
    float v = bits_float(abs) * 16777216.0f;  // value / 2^-24
    uint32_t q = uint32_t(v);
    float rest = v - float(q);
    if (rest > 0.5f || (rest == 0.5f && (q & 1u))) ++q;
    return f16{uint16_t(sign | q)};
  }
  uint32_t exp = ((abs >> 23) - 112u) << 10;
  uint32_t man = abs & 0x7fffffu;
  uint32_t h = exp | (man >> 13);
  uint32_t rest = man & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // carries into the exponent if needed
  return f16{uint16_t(sign | h)};
}

// Compute type of a storage type: double for double, float for everything else.
template <typename T>
struct ComputeType {
  using type = float;
};
template <>
struct ComputeType<double> {
  using type = double;
};
template <typename T>
using compute_t = typename ComputeType<T>::type;

// load/store: read any storage type as its compute type, write back with rounding.
LUMEN_HD float load(float x) { return x; }
LUMEN_HD double load(double x) { return x; }
LUMEN_HD float load(bf16 x) { return bf16_to_float(x); }
LUMEN_HD float load(f16 x) { return f16_to_float(x); }

template <typename T>
LUMEN_HD T store(compute_t<T> x) {
  return static_cast<T>(x);
}
template <>
LUMEN_HD bf16 store<bf16>(float x) {
  return float_to_bf16(x);
}
template <>
LUMEN_HD f16 store<f16>(float x) {
  return float_to_f16(x);
}

}  // namespace lumen

namespace lumen {
// Conversions between any two element types through double (casts are not on hot paths).
LUMEN_HD double to_double(float x) { return x; }
LUMEN_HD double to_double(double x) { return x; }
LUMEN_HD double to_double(bf16 x) { return bf16_to_float(x); }
LUMEN_HD double to_double(f16 x) { return f16_to_float(x); }
LUMEN_HD double to_double(uint8_t x) { return x; }
LUMEN_HD double to_double(int32_t x) { return x; }
LUMEN_HD double to_double(int64_t x) { return double(x); }

template <typename T>
LUMEN_HD T from_double(double x) {
  if constexpr (sizeof(T) == 1) {
    return T(int64_t(x));  // u8 wraps as in PyTorch
  } else {
    return static_cast<T>(x);
  }
}
template <>
LUMEN_HD bf16 from_double<bf16>(double x) {
  return float_to_bf16(float(x));
}
template <>
LUMEN_HD f16 from_double<f16>(double x) {
  return float_to_f16(float(x));
}
}  // namespace lumen

#include <cmath>

namespace lumen {
// Math overloads that pick the float or double function on host and device alike.
LUMEN_HD float math_exp(float x) { return expf(x); }
LUMEN_HD double math_exp(double x) { return exp(x); }
LUMEN_HD float math_log(float x) { return logf(x); }
LUMEN_HD double math_log(double x) { return log(x); }
LUMEN_HD float math_sqrt(float x) { return sqrtf(x); }
LUMEN_HD double math_sqrt(double x) { return sqrt(x); }
}  // namespace lumen
