// Convolution, batch norm, pooling, bias and linear ops on the CPU: exact values on tiny inputs,
// argument errors, and finite-difference gradient checks in f64 (the GPU twins:
// test_nn_ops_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/batch_norm_cases.h"
#include "support/testing.h"

#include <cmath>

#include "engine/ops/ops.h"

using namespace lumen;
using testing::gradcheck;

namespace {
Tensor randn64(Shape shape, uint64_t seed, double stddev = 1) {
  return Tensor::normal(shape, seed, 0, stddev, DType::f64);
}
// A fixed random weighting so that the loss sees every output element differently.
Tensor weighted_sum(const Tensor& y, uint64_t seed) {
  return sum(mul(y, randn64(y.shape(), seed)));
}
}  // namespace

TEST_CASE("conv2d: a 2x2 kernel on a 3x3 image, by hand") {
  // x: one image 3x3, one channel: 1..9;  w: one 2x2 filter [[1, 0], [0, -1]]
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
  Tensor w = Tensor::from_vector(std::vector<double>{1, 0, 0, -1}, {1, 2, 2, 1});
  Tensor b = Tensor::from_vector(std::vector<double>{10}, {1});
  CHECK(conv2d(x, w, Tensor(), 1, 0).to_doubles() == std::vector<double>{-4, -4, -4, -4});
  CHECK(conv2d(x, w, b, 1, 0).to_doubles() == std::vector<double>{6, 6, 6, 6});
  // padding 1, stride 2: output 2x2 at input corners (-1,-1), (-1,1), (1,-1), (1,1)
  CHECK(conv2d(x, w, Tensor(), 2, 1).to_doubles() == std::vector<double>{-1, -3, -7, -4});
}

TEST_CASE("conv2d: channels mix as x @ w^T (1x1 and 3x3 agree on a centred kernel)") {
  Tensor x = randn64({2, 5, 4, 3}, 1);
  Tensor w1 = randn64({4, 1, 1, 3}, 2);
  // a 3x3 kernel that is zero except its centre equals the 1x1 kernel
  std::vector<double> w3(4 * 9 * 3, 0.0), v1 = w1.to_doubles();
  for (int o = 0; o < 4; ++o) {
    for (int c = 0; c < 3; ++c) w3[(o * 9 + 4) * 3 + c] = v1[o * 3 + c];
  }
  Tensor y1 = conv2d(x, w1, Tensor(), 1, 0);
  Tensor y3 = conv2d(x, Tensor::from_vector(w3, {4, 3, 3, 3}), Tensor(), 1, 1);
  testing::check_close(y3, y1, 1e-14, "3x3 centred kernel vs 1x1");
  Tensor y1s2 = conv2d(x, w1, Tensor(), 2, 0);
  CHECK(y1s2.shape() == Shape{2, 3, 2, 4});
}

TEST_CASE("conv2d: bad arguments are clear errors") {
  Tensor x = randn64({1, 4, 4, 3}, 1);
  CHECK_THROWS_WITH_AS(conv2d(x, randn64({2, 3, 3, 2}, 2), Tensor(), 1, 1),
                       doctest::Contains("input channels"), Error);
  CHECK_THROWS_WITH_AS(conv2d(randn64({4, 4, 3}, 1), randn64({2, 3, 3, 3}, 2), Tensor(), 1, 1),
                       doctest::Contains("NHWC"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, randn64({2, 7, 7, 3}, 2), Tensor(), 1, 0),
                       doctest::Contains("larger than the padded input"), Error);
  CHECK_THROWS_WITH_AS(conv2d(x, randn64({2, 3, 3, 3}, 2), Tensor(), 0, 1),
                       doctest::Contains("stride"), Error);
}

TEST_CASE("conv2d: gradients (3x3 pad 1, 3x3 stride 2, 1x1, 1x1 stride 2, 7x7 stride 2)") {
  struct Case {
    int64_t k, stride, pad;
  };
  for (Case cs : {Case{3, 1, 1}, Case{3, 2, 1}, Case{1, 1, 0}, Case{1, 2, 0}, Case{7, 2, 3}}) {
    CAPTURE(cs.k);
    CAPTURE(cs.stride);
    const int64_t hw = cs.k == 7 ? 8 : 5;
    gradcheck(
        [&](const std::vector<Tensor>& in) {
          return weighted_sum(conv2d(in[0], in[1], in[2], cs.stride, cs.pad), 7);
        },
        {randn64({2, hw, hw - 1, 3}, 1), randn64({4, cs.k, cs.k, 3}, 2), randn64({4}, 3)});
  }
}

TEST_CASE("conv2d: values and gradients on shapes split into many blocks match direct loops") {
  // Large enough that the CPU convolution splits rows into blocks: images smaller than a block
  // (grouped), and images larger than one (split), across the OpenMP threads. The 3x3 stride-1
  // cases with >= 16 channels take the Winograd path (odd sizes: tiles cut by the border; a 1x1
  // image; many tile blocks).
  struct Case {
    int64_t n, h, w, c, o, k, stride, pad;
  };
  for (Case cs : {Case{40, 4, 5, 6, 5, 3, 1, 1}, Case{3, 41, 37, 8, 6, 3, 1, 1},
                  Case{3, 41, 37, 8, 6, 3, 2, 1}, Case{9, 23, 19, 5, 7, 1, 1, 0},
                  Case{9, 23, 19, 5, 7, 1, 2, 0}, Case{4, 30, 30, 3, 4, 7, 2, 3},
                  Case{2, 7, 9, 64, 72, 3, 1, 1}, Case{3, 1, 1, 64, 64, 3, 1, 1},
                  Case{3, 2, 5, 65, 80, 3, 1, 1}, Case{2, 21, 18, 64, 64, 3, 1, 1},
                  Case{5, 9, 7, 16, 16, 3, 1, 1}}) {
    CAPTURE(cs.n);
    CAPTURE(cs.h);
    CAPTURE(cs.k);
    CAPTURE(cs.stride);
    Tensor x = randn64({cs.n, cs.h, cs.w, cs.c}, 11);
    x.set_requires_grad();
    Tensor w = randn64({cs.o, cs.k, cs.k, cs.c}, 12);
    w.set_requires_grad();
    Tensor y = conv2d(x, w, Tensor(), cs.stride, cs.pad);
    const int64_t oh_n = y.size(1), ow_n = y.size(2);
    Tensor dy = randn64(y.shape(), 13);
    sum(mul(y, dy)).backward();
    // y, dx and dw by direct loops over every (output, tap, channel)
    const std::vector<double> xv = x.to_doubles(), wv = w.to_doubles(), dyv = dy.to_doubles();
    std::vector<double> ye(y.numel(), 0.0), dxe(xv.size(), 0.0), dwe(wv.size(), 0.0);
    for (int64_t n = 0; n < cs.n; ++n)
      for (int64_t oh = 0; oh < oh_n; ++oh)
        for (int64_t ow = 0; ow < ow_n; ++ow)
          for (int64_t o = 0; o < cs.o; ++o)
            for (int64_t i = 0; i < cs.k; ++i)
              for (int64_t j = 0; j < cs.k; ++j) {
                const int64_t yy = oh * cs.stride - cs.pad + i, xx = ow * cs.stride - cs.pad + j;
                if (yy < 0 || yy >= cs.h || xx < 0 || xx >= cs.w) continue;
                const int64_t out = ((n * oh_n + oh) * ow_n + ow) * cs.o + o;
                for (int64_t c = 0; c < cs.c; ++c) {
                  const int64_t xi = ((n * cs.h + yy) * cs.w + xx) * cs.c + c;
                  const int64_t wi = ((o * cs.k + i) * cs.k + j) * cs.c + c;
                  ye[out] += xv[xi] * wv[wi];
                  dxe[xi] += dyv[out] * wv[wi];
                  dwe[wi] += dyv[out] * xv[xi];
                }
              }
    testing::check_close(y, Tensor::from_vector(ye, y.shape()), 1e-12, "y");
    testing::check_close(x.grad(), Tensor::from_vector(dxe, x.shape()), 1e-12, "dx");
    testing::check_close(w.grad(), Tensor::from_vector(dwe, w.shape()), 1e-12, "dw");
  }
}

TEST_CASE("conv2d: the Winograd path keeps f32 accuracy (3x3 stride 1, 64 channels)") {
  Tensor x64 = randn64({4, 15, 13, 64}, 21), w64 = randn64({64, 3, 3, 64}, 22, 0.05);
  Tensor dy64 = randn64({4, 15, 13, 64}, 23);
  auto run = [&](DType t, Tensor* dx, Tensor* dw) {
    Tensor x = x64.to(t).set_requires_grad(), w = w64.to(t).set_requires_grad();
    Tensor y = conv2d(x, w, Tensor(), 1, 1);
    sum(mul(y, dy64.to(t))).backward();
    *dx = x.grad();
    *dw = w.grad();
    return y;
  };
  Tensor dx32, dw32, dx64, dw64;
  Tensor y32 = run(DType::f32, &dx32, &dw32);
  Tensor y64 = run(DType::f64, &dx64, &dw64);
  CHECK(testing::scaled_error(y32, y64) < 1e-5);
  CHECK(testing::scaled_error(dx32, dx64) < 1e-5);
  CHECK(testing::scaled_error(dw32, dw64) < 1e-5);
}

TEST_CASE("batch_norm: training normalises with batch statistics and updates running stats") {
  // one channel, values 1..4: mean 2.5, biased var 1.25, unbiased var 5/3
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {4, 1});
  Tensor rm = Tensor::zeros({1}, DType::f64), rv = Tensor::full({1}, 1.0, DType::f64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, /*training=*/true, 0.1, /*eps=*/1e-300);
  const std::vector<double> v = y.to_doubles();
  const double sd = std::sqrt(1.25);
  CHECK(v[0] == doctest::Approx(-1.5 / sd).epsilon(1e-12));
  CHECK(v[3] == doctest::Approx(1.5 / sd).epsilon(1e-12));
  CHECK(rm.item() == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(rv.item() == doctest::Approx(0.9 + 0.1 * 5.0 / 3.0).epsilon(1e-12));
  // eval uses the running buffers: (x - 0.25) / sqrt(rv + eps) * w + b
  Tensor w = Tensor::full({1}, 2.0, DType::f64), b = Tensor::full({1}, 1.0, DType::f64);
  Tensor ye = batch_norm(x, w, b, rm, rv, /*training=*/false, 0.1, 1e-5);
  CHECK(ye.to_doubles()[1] ==
        doctest::Approx((2 - 0.25) / std::sqrt(rv.item() + 1e-5) * 2 + 1).epsilon(1e-12));
  CHECK(rm.item() == doctest::Approx(0.25).epsilon(1e-12));  // eval leaves the buffers alone
}

TEST_CASE("batch_norm: statistics stay accurate when the mean dwarfs the spread (f32, one pass)") {
  testing::check_batch_norm_far_mean(Device::cpu());
}

TEST_CASE("batch_norm: bad arguments are clear errors") {
  Tensor x = randn64({4, 3}, 1);
  CHECK_THROWS_WITH_AS(batch_norm(x, randn64({2}, 2), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("one value per channel"), Error);
  CHECK_THROWS_WITH_AS(
      batch_norm(x.to(DType::f32), randn64({3}, 2), Tensor(), Tensor(), Tensor(), true),
      doctest::Contains("statistics and parameters"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(randn64({1, 3}, 1), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("more than one value per channel"), Error);
}

TEST_CASE("batch_norm: gradients in training and eval, affine and not, 1d and 2d") {
  Tensor rm = randn64({3}, 5, 0.3);
  Tensor rv = Tensor::uniform({3}, 6, 0.5, 2.0, DType::f64);
  for (bool training : {true, false}) {
    CAPTURE(training);
    for (Shape shape : {Shape{6, 3}, Shape{2, 3, 2, 3}}) {
      gradcheck(
          [&](const std::vector<Tensor>& in) {
            Tensor rm_copy = rm.clone(), rv_copy = rv.clone();  // each call starts from the same
            return weighted_sum(batch_norm(in[0], in[1], in[2], rm_copy, rv_copy, training), 9);
          },
          {randn64(shape, 1), randn64({3}, 2), randn64({3}, 3)});
      gradcheck(
          [&](const std::vector<Tensor>& in) {
            Tensor rm_copy = rm.clone(), rv_copy = rv.clone();
            return weighted_sum(batch_norm(in[0], Tensor(), Tensor(), rm_copy, rv_copy, training),
                                9);
          },
          {randn64(shape, 4)});
    }
  }
}

TEST_CASE("batch_norm tail: relu(bn(x) + residual) fused equals the composition, with gradients") {
  Tensor rm = randn64({3}, 5, 0.3);
  Tensor rv = Tensor::uniform({3}, 6, 0.5, 2.0, DType::f64);
  const Shape shape{2, 3, 2, 3};
  for (bool training : {true, false}) {
    for (bool with_residual : {true, false}) {
      CAPTURE(training);
      CAPTURE(with_residual);
      auto fused = [&](const std::vector<Tensor>& in) {
        Tensor rm_copy = rm.clone(), rv_copy = rv.clone();
        const Tensor residual = with_residual ? in[3] : Tensor();
        return batch_norm(in[0], in[1], in[2], rm_copy, rv_copy, training, 0.1, 1e-5,
                          {residual, true});
      };
      auto composed = [&](const std::vector<Tensor>& in) {
        Tensor rm_copy = rm.clone(), rv_copy = rv.clone();
        Tensor y = batch_norm(in[0], in[1], in[2], rm_copy, rv_copy, training);
        return relu(with_residual ? add(y, in[3]) : y);
      };
      std::vector<Tensor> a{randn64(shape, 1), randn64({3}, 2), randn64({3}, 3), randn64(shape, 4)};
      std::vector<Tensor> b;
      for (Tensor& t : a) b.push_back(t.clone().set_requires_grad());
      for (Tensor& t : a) t.set_requires_grad();
      Tensor ya = fused(a);
      weighted_sum(ya, 9).backward();
      Tensor yb = composed(b);
      weighted_sum(yb, 9).backward();
      CHECK(testing::max_relative_error(ya, yb) < 1e-12);
      for (size_t i = 0; i < (with_residual ? 4u : 3u); ++i) {
        CAPTURE(i);
        CHECK(testing::max_relative_error(a[i].grad(), b[i].grad()) < 1e-12);
      }
      // The ReLU's kink makes central differences unreliable at exact zeros only; random inputs
      // keep away from them.
      gradcheck([&](const std::vector<Tensor>& in) { return weighted_sum(fused(in), 9); },
                with_residual ? a : std::vector<Tensor>(a.begin(), a.begin() + 3));
    }
  }
  CHECK_THROWS_WITH(batch_norm(randn64(shape, 1), Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1,
                               1e-5, {randn64({2, 3}, 2), true}),
                    doctest::Contains("residual"));
}

TEST_CASE("max_pool2d and global_avg_pool: values") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 5, 3, 2, 9, 4, 7, 8, 6}, {1, 3, 3, 1});
  // 3x3 window, stride 2, padding 1 -> 2x2 outputs over the padded corners
  CHECK(max_pool2d(x, 3, 2, 1).to_doubles() == std::vector<double>{9, 9, 9, 9});
  CHECK(max_pool2d(x, 2, 1, 0).to_doubles() == std::vector<double>{9, 9, 9, 9});
  Tensor neg = scale(x, -1);
  CHECK(max_pool2d(neg, 2, 1, 0).to_doubles() == std::vector<double>{-1, -3, -2, -4});
  CHECK(global_avg_pool(x).to_doubles() == std::vector<double>{5});
  CHECK(global_avg_pool(randn64({2, 3, 4, 5}, 1)).shape() == Shape{2, 5});
  CHECK_THROWS_WITH_AS(max_pool2d(x, 3, 2, 2), doctest::Contains("padding"), Error);
}

TEST_CASE("pooling: gradients") {
  gradcheck(
      [](const std::vector<Tensor>& in) { return weighted_sum(max_pool2d(in[0], 3, 2, 1), 3); },
      {randn64({2, 5, 6, 3}, 1)});
  gradcheck([](const std::vector<Tensor>& in) { return weighted_sum(global_avg_pool(in[0]), 3); },
            {randn64({2, 3, 4, 5}, 1)});
}

TEST_CASE("linear, add_channel_bias and to_dtype") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
  Tensor w = Tensor::from_vector(std::vector<double>{1, 0, 1, 1, 0, 2}, {3, 2});
  Tensor b = Tensor::from_vector(std::vector<double>{0, 10, 100}, {3});
  CHECK(linear(x, w, b).to_doubles() == std::vector<double>{1, 13, 104, 3, 17, 108});
  CHECK_THROWS_WITH_AS(linear(x, randn64({3, 3}, 1), Tensor()), doctest::Contains("(out, in)"),
                       Error);
  gradcheck(
      [](const std::vector<Tensor>& in) { return weighted_sum(linear(in[0], in[1], in[2]), 4); },
      {randn64({4, 5}, 1), randn64({3, 5}, 2), randn64({3}, 3)});
  gradcheck(
      [](const std::vector<Tensor>& in) { return weighted_sum(add_channel_bias(in[0], in[1]), 4); },
      {randn64({2, 3, 2, 4}, 1), randn64({4}, 2)});
  Tensor v = Tensor::from_vector(std::vector<double>{1.5, -2.25}, {2}).set_requires_grad();
  Tensor h = to_dtype(v, DType::bf16);
  CHECK(h.dtype() == DType::bf16);
  sum(h).backward();
  CHECK(v.grad().dtype() == DType::f64);
  CHECK(v.grad().to_doubles() == std::vector<double>{1, 1});
}
