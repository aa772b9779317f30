// Philox4x32-10, the counter-based generator of Salmon et al. (SC'11), as used by cuRAND and
// PyTorch. A draw is a pure function of (key, counter), so CPU and GPU produce the same numbers for
// the same (seed, stream, index) and nothing needs to be carried between draws.
//   key     = seed (64 bits)
//   counter = (index low, index high, stream low, stream high); each call yields 4 uint32.
// Lumen keys augmentations by (seed, epoch, sample, view): stream = epoch << 32 | view, index =
// sample * draws_per_sample + draw.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace lumen {

struct Philox4 {
  uint32_t v[4];
};

LUMEN_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

LUMEN_HD Philox4 philox4x32(uint64_t seed, uint64_t stream, uint64_t index) {
  uint32_t c0 = uint32_t(index), c1 = uint32_t(index >> 32);
  uint32_t c2 = uint32_t(stream), c3 = uint32_t(stream >> 32);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, hi0, lo0);
    philox_mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Uniform float in [0, 1) from the top 24 bits.
LUMEN_HD float uint_to_unit_float(uint32_t u) { return float(u >> 8) * (1.0f / 16777216.0f); }
// Uniform double in [0, 1) from 53 bits of two words.
LUMEN_HD double uints_to_unit_double(uint32_t a, uint32_t b) {
  uint64_t bits = (uint64_t(a) << 21) ^ uint64_t(b >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// The idx-th uniform float in [0, 1) of stream (seed, stream).
LUMEN_HD float philox_uniform(uint64_t seed, uint64_t stream, uint64_t idx) {
  Philox4 r = philox4x32(seed, stream, idx >> 2);
  return uint_to_unit_float(r.v[idx & 3]);
}

// The idx-th standard normal of stream (seed, stream): Box-Muller on the two words pair of the
// block that holds idx (even idx take the cosine, odd idx the sine).
LUMEN_HD float philox_normal(uint64_t seed, uint64_t stream, uint64_t idx) {
  Philox4 r = philox4x32(seed, stream, idx >> 1);
  double u1 = uints_to_unit_double(r.v[0], r.v[1]);
  double u2 = uints_to_unit_double(r.v[2], r.v[3]);
  double radius = sqrt(-2.0 * log(1.0 - u1));  // 1 - u1 in (0, 1]: log is finite
  double angle = 6.283185307179586 * u2;
  return float((idx & 1) ? radius * sin(angle) : radius * cos(angle));
}

// A Fisher-Yates shuffle of order[0, n) drawn from the Philox stream (seed, stream): for i from
// n - 1 down to 1, swap order[i] with order[floor(u_i (i + 1))], u_i the 53-bit uniform of counter
// i (the draw engine/data's epoch_order makes).
LUMEN_HD void philox_shuffle(int64_t* order, int64_t n, uint64_t seed, uint64_t stream) {
  for (int64_t i = n - 1; i > 0; --i) {
    const Philox4 r = philox4x32(seed, stream, uint64_t(i));
    int64_t j = int64_t(uints_to_unit_double(r.v[0], r.v[1]) * double(i + 1));
    if (j > i) j = i;
    const int64_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

}  // namespace lumen
