// Tensor basics: creation, dtypes and conversions, views, random fills, device errors (GPU copies
// and fills: test_tensor_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "kernels/philox.cuh"

using namespace lumen;

TEST_CASE("shape, numel and description") {
  Tensor t = Tensor::zeros({2, 3, 4});
  CHECK(t.numel() == 24);
  CHECK(t.ndim() == 3);
  CHECK(t.size(-1) == 4);
  CHECK(t.nbytes() == 96);
  CHECK(t.str() == "(2, 3, 4) f32 cpu");
  CHECK_THROWS_WITH_AS(t.size(3), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(Tensor::empty({2, -1}), Error);
}

TEST_CASE("bf16 rounds to nearest even and keeps specials") {
  CHECK(bf16_to_float(float_to_bf16(1.0f)) == 1.0f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  CHECK(bf16_to_float(float_to_bf16(1.0f + 1.0f / 256)) == 1.0f);
  CHECK(bf16_to_float(float_to_bf16(1.0f + 3.0f / 256)) == 1.0f + 4.0f / 256);
  CHECK(std::isinf(bf16_to_float(float_to_bf16(INFINITY))));
  CHECK(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST_CASE("f16 conversion matches IEEE binary16") {
  CHECK(f16_to_float(float_to_f16(1.0f)) == 1.0f);
  CHECK(float_to_f16(1.0f).bits == 0x3c00);
  CHECK(float_to_f16(-2.0f).bits == 0xc000);
  CHECK(float_to_f16(65504.0f).bits == 0x7bff);                // largest finite
  CHECK(float_to_f16(70000.0f).bits == 0x7c00);                // overflow to inf
  CHECK(float_to_f16(5.9604644775390625e-8f).bits == 0x0001);  // smallest subnormal
  CHECK(f16_to_float(f16{0x0001}) == 5.9604644775390625e-8f);
  CHECK(float_to_f16(1.0f + 1.0f / 2048).bits == 0x3c00);  // tie to even
  CHECK(float_to_f16(1.0f + 3.0f / 2048).bits == 0x3c02);
  for (uint32_t bits = 0; bits < 0x7c00; bits += 7) {  // every 7th finite value roundtrips
    f16 h{uint16_t(bits)};
    CHECK_MESSAGE(float_to_f16(f16_to_float(h)).bits == h.bits, "bits " << bits);
  }
}

TEST_CASE("conversions between dtypes") {
  Tensor x = Tensor::from_vector(std::vector<float>{-2.5f, 0.0f, 1.25f, 300.0f}, {4});
  CHECK(x.to(DType::f64).to_doubles() == std::vector<double>{-2.5, 0.0, 1.25, 300.0});
  CHECK(x.to(DType::bf16).to_doubles() == std::vector<double>{-2.5, 0.0, 1.25, 300.0});
  CHECK(x.to(DType::f16).to_doubles() == std::vector<double>{-2.5, 0.0, 1.25, 300.0});
  CHECK(x.to(DType::i32).to_doubles() == std::vector<double>{-2, 0, 1, 300});
  CHECK(x.to(DType::i64).to_doubles() == std::vector<double>{-2, 0, 1, 300});
  CHECK(x.to(DType::u8).to_doubles() == std::vector<double>{254, 0, 1, 44});  // wraps like torch
}

TEST_CASE("views share storage; reshape and rows") {
  Tensor x = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor r = x.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 2});
  r.data<float>()[0] = 10;
  CHECK(x.data<float>()[0] == 10);
  Tensor second = x.rows(1, 1);
  CHECK(second.shape() == Shape{1, 3});
  CHECK(second.to_doubles() == std::vector<double>{3, 4, 5});
  CHECK_THROWS_WITH_AS(x.reshape({4, 2}), doctest::Contains("cannot reshape"), Error);
  CHECK_THROWS_AS(x.rows(1, 2), Error);
  Tensor c = x.clone();
  c.data<float>()[1] = 99;
  CHECK(x.data<float>()[1] == 1);
}

TEST_CASE("data<T>() checks the dtype") {
  Tensor x = Tensor::zeros({2}, DType::f32);
  CHECK_THROWS_WITH_AS(x.data<double>(), doctest::Contains("accessed as f64"), Error);
}

TEST_CASE("Philox matches the Random123 known-answer vectors") {
  // Philox4x32-10 test vectors from the Random123 distribution (kat_vectors):
  // counter 0, key 0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8
  Philox4 r = philox4x32(0, 0, 0);
  CHECK(r.v[0] == 0x6627e8d5u);
  CHECK(r.v[1] == 0xe169c58du);
  CHECK(r.v[2] == 0xbc57ac4cu);
  CHECK(r.v[3] == 0x9b00dbd8u);
  // counter all ones, key all ones -> 408f276d 41c83b0e a20bc7c6 6d5451fd
  r = philox4x32(~0ull, ~0ull, ~0ull);
  CHECK(r.v[0] == 0x408f276du);
  CHECK(r.v[1] == 0x41c83b0eu);
  CHECK(r.v[2] == 0xa20bc7c6u);
  CHECK(r.v[3] == 0x6d5451fdu);
  // counter 243f6a88 85a308d3 13198a2e 03707344, key a4093822 299f31d0
  //   -> d16cfe09 94fdcceb 5001e420 24126ea1
  r = philox4x32(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull);
  CHECK(r.v[0] == 0xd16cfe09u);
  CHECK(r.v[1] == 0x94fdccebu);
  CHECK(r.v[2] == 0x5001e420u);
  CHECK(r.v[3] == 0x24126ea1u);
}

TEST_CASE("random fills are reproducible and have the requested moments") {
  const int64_t n = 200000;
  Tensor u = Tensor::uniform({n}, 7, -1.0, 3.0);
  Tensor u2 = Tensor::uniform({n}, 7, -1.0, 3.0);
  CHECK(u.to_doubles() == u2.to_doubles());
  CHECK(Tensor::uniform({n}, 8).to_doubles() != Tensor::uniform({n}, 7).to_doubles());
  double mean = 0, lo = 1e9, hi = -1e9;
  for (double v : u.to_doubles()) {
    mean += v / n;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(mean == doctest::Approx(1.0).epsilon(0.01));
  CHECK(lo >= -1.0);
  CHECK(hi < 3.0);

  Tensor g = Tensor::normal({n}, 11, 2.0, 0.5);
  double m = 0, var = 0;
  for (double v : g.to_doubles()) m += v / n;
  for (double v : g.to_doubles()) var += (v - m) * (v - m) / n;
  CHECK(m == doctest::Approx(2.0).epsilon(0.005));
  CHECK(std::sqrt(var) == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("a CUDA device that is not there gives a clear error") {
  std::string reason;
  if (cuda_device_count(&reason) > 0) {
    CHECK_THROWS_WITH_AS(Tensor::zeros({2}, DType::f32, Device::cuda(999)),
                         doctest::Contains("does not exist"), Error);
  } else {
    CHECK_THROWS_WITH_AS(Tensor::zeros({2}, DType::f32, Device::cuda(0)),
                         doctest::Contains("device=cpu"), Error);
  }
  CHECK(parse_device("cpu") == Device::cpu());
  CHECK(parse_device("cuda:1") == Device::cuda(1));
  CHECK_THROWS_WITH_AS(parse_device("tpu"), doctest::Contains("not valid"), Error);
}
