// NT-Xent loss: golden fixtures from lightly's formula in PyTorch (plain and memory-bank mode),
// a finite-difference gradient check in f64, argument errors, the memory bank's FIFO, and
// gather_distributed simulated with ranks as threads (the GPU against the CPU:
// test_ntxent_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>

#include "engine/dist/in_process_group.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "losses/ntxent.h"

using namespace lumen;
using testing::check_scaled;

namespace {

struct Fixture {
  std::map<std::string, Tensor> t;
  double temperature() const { return t.at("temperature").item(); }
};
Fixture load_fixture(const std::string& name) {
  return Fixture{load_safetensors("fixtures/ntxent_" + name + ".safetensors").tensors};
}

const char* kPlainFixtures[] = {"plain_n4_d8_t05", "plain_n16_d32_t01", "plain_n9_d5_t2"};
const char* kBankFixtures[] = {"bank_n6_d8_k20_p0", "bank_n5_d16_k12_p9"};

}  // namespace

TEST_CASE("NT-Xent plain mode matches lightly's formula (fixtures, f32 and f64)") {
  std::map<std::string, double> worst;  // by dtype, over loss and gradients
  for (const char* name : kPlainFixtures) {
    CAPTURE(name);
    Fixture f = load_fixture(name);
    for (DType dtype : {DType::f32, DType::f64}) {
      const std::string dtype_label = dtype_name(dtype);
      CAPTURE(dtype_label);
      const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
      Tensor out0 = f.t.at("out0").to(dtype).set_requires_grad();
      Tensor out1 = f.t.at("out1").to(dtype).set_requires_grad();
      NTXentLoss loss_fn({f.temperature()});
      Tensor loss = loss_fn(out0, out1);
      CHECK(loss.dtype() == dtype);
      check_scaled(loss, f.t.at("loss"), tol, "loss");
      loss.backward();
      check_scaled(out0.grad(), f.t.at("grad_out0"), tol, "grad out0");
      check_scaled(out1.grad(), f.t.at("grad_out1"), tol, "grad out1");
      for (const auto& [got, want] : {std::pair{loss, f.t.at("loss")},
                                      {out0.grad(), f.t.at("grad_out0")},
                                      {out1.grad(), f.t.at("grad_out1")}}) {
        worst[dtype_label] = std::max(worst[dtype_label], testing::scaled_error(got, want));
      }
    }
  }
  for (const auto& [dtype, e] : worst) MESSAGE("ntxent " << dtype << ": max scaled error " << e);
}

TEST_CASE("NT-Xent memory-bank mode matches lightly's formula and FIFO (fixtures)") {
  for (const char* name : kBankFixtures) {
    CAPTURE(name);
    Fixture f = load_fixture(name);
    for (DType dtype : {DType::f32, DType::f64}) {
      const std::string dtype_label = dtype_name(dtype);
      CAPTURE(dtype_label);
      const double tol = dtype == DType::f32 ? 1e-5 : 1e-10;
      const Tensor& bank = f.t.at("bank");
      NTXentOptions options;
      options.temperature = f.temperature();
      options.memory_bank_size = bank.size(0);
      NTXentLoss loss_fn(options);
      loss_fn.set_memory_bank(bank.to(dtype), int64_t(f.t.at("bank_pointer").item()));
      Tensor out0 = f.t.at("out0").to(dtype).set_requires_grad();
      Tensor out1 = f.t.at("out1").to(dtype).set_requires_grad();
      Tensor loss = loss_fn(out0, out1);
      check_scaled(loss, f.t.at("loss"), tol, "loss");
      loss.backward();
      check_scaled(out0.grad(), f.t.at("grad_out0"), tol, "grad out0");
      check_scaled(out1.grad(), f.t.at("grad_out1"), tol, "grad out1");
      check_scaled(loss_fn.memory_bank(), f.t.at("bank_after"), tol, "bank after the update");
      CHECK(loss_fn.memory_bank_pointer() == int64_t(f.t.at("bank_pointer_after").item()));
    }
  }
}

TEST_CASE("NT-Xent gradients pass a finite-difference check in f64") {
  SUBCASE("plain") {
    NTXentLoss loss_fn({0.3});
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return loss_fn(in[0], in[1]); },
        {Tensor::normal({3, 4}, 1, 0, 1, DType::f64), Tensor::normal({3, 4}, 2, 0, 1, DType::f64)});
  }
  SUBCASE("negative temperature") {
    NTXentLoss loss_fn({-0.7});
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) { return loss_fn(in[0], in[1]); },
        {Tensor::normal({2, 3}, 3, 0, 1, DType::f64), Tensor::normal({2, 3}, 4, 0, 1, DType::f64)});
  }
  SUBCASE("memory bank") {
    NTXentOptions options;
    options.temperature = 0.25;
    options.memory_bank_size = 7;
    Tensor bank = Tensor::normal({7, 4}, 5, 0, 1, DType::f64);
    testing::gradcheck(
        [&](const std::vector<Tensor>& in) {
          NTXentLoss loss_fn(options);  // fresh each call: the bank must not move between calls
          loss_fn.set_memory_bank(l2_normalize_rows(bank), 3);
          return loss_fn(in[0], in[1]);
        },
        {Tensor::normal({3, 4}, 6, 0, 1, DType::f64), Tensor::normal({3, 4}, 7, 0, 1, DType::f64)});
  }
}

TEST_CASE("NT-Xent rejects bad settings and inputs with clear errors") {
  for (double t : {0.0, 1e-9, -1e-9, double(NAN)}) {
    CAPTURE(t);
    CHECK_THROWS_WITH_AS(NTXentLoss({t}), doctest::Contains("temperature"), Error);
  }
  NTXentOptions bad_bank;
  bad_bank.memory_bank_size = -1;
  CHECK_THROWS_WITH_AS(NTXentLoss{bad_bank}, doctest::Contains("memory bank size"), Error);
  NTXentLoss loss_fn;
  CHECK(loss_fn.options().temperature == 0.5);
  Tensor a = Tensor::normal({4, 8}, 1), b = Tensor::normal({4, 7}, 2);
  CHECK_THROWS_AS(loss_fn(a, b), Error);
  CHECK_THROWS_AS(loss_fn(a, a.to(DType::f64)), Error);
  CHECK_THROWS_AS(loss_fn(Tensor::normal({8}, 1), Tensor::normal({8}, 2)), Error);
  CHECK_THROWS_AS(loss_fn(Tensor::zeros({4, 8}, DType::i32), Tensor::zeros({4, 8}, DType::i32)),
                  Error);
  CHECK_THROWS_WITH_AS(loss_fn.set_memory_bank(Tensor::normal({3, 8}, 1)),
                       doctest::Contains("no memory bank"), Error);
}

TEST_CASE("NT-Xent memory bank: random unit start, update only when differentiable, FIFO wrap") {
  NTXentOptions options;
  options.memory_bank_size = 10;
  options.memory_bank_seed = 42;
  NTXentLoss loss_fn(options);
  Tensor out0 = Tensor::normal({4, 6}, 1), out1 = Tensor::normal({4, 6}, 2);
  loss_fn(out0, out1);  // no input requires grad: the bank is created but not updated
  REQUIRE(loss_fn.memory_bank().defined());
  CHECK(loss_fn.memory_bank().shape() == Shape{10, 6});
  CHECK(loss_fn.memory_bank_pointer() == 0);
  const std::vector<double> start = loss_fn.memory_bank().to_doubles();
  for (int r = 0; r < 10; ++r) {
    double ss = 0;
    for (int k = 0; k < 6; ++k) ss += start[r * 6 + k] * start[r * 6 + k];
    CHECK(std::sqrt(ss) == doctest::Approx(1.0).epsilon(1e-6));
  }
  NTXentLoss same_seed(options);
  same_seed(out0, out1);
  CHECK(testing::max_relative_error(same_seed.memory_bank(), loss_fn.memory_bank()) == 0);

  out0.set_requires_grad();
  {
    NoGrad no_grad;
    loss_fn(out0, out1);
  }
  CHECK(loss_fn.memory_bank_pointer() == 0);
  CHECK(testing::max_relative_error(loss_fn.memory_bank(),
                                    Tensor::from_vector(start, {10, 6}, DType::f32)) == 0);
  loss_fn(out0, out1);
  CHECK(loss_fn.memory_bank_pointer() == 4);
  testing::check_close(loss_fn.memory_bank().rows(0, 4), l2_normalize_rows(out1), 1e-6,
                       "bank rows 0..3 hold normalised out1");
  loss_fn(out0, out1);
  CHECK(loss_fn.memory_bank_pointer() == 8);
  loss_fn(out0, out1);  // 8 + 4 >= 10: rows 8, 9 take the first two rows, the pointer wraps
  CHECK(loss_fn.memory_bank_pointer() == 0);
  testing::check_close(loss_fn.memory_bank().rows(8, 2), l2_normalize_rows(out1).rows(0, 2), 1e-6,
                       "wrapped rows");
  // Checkpoint round trip: a restored loss continues exactly.
  std::map<std::string, Tensor> saved;
  for (const auto& [name, t] : loss_fn.state_tensors()) saved[name] = t.clone();
  CHECK(saved.at("memory_bank_pointer").item() == 0);
  NTXentLoss restored(options);
  CHECK(restored.state_tensors().empty());
  restored.load_state_tensors(saved);
  Tensor next0 = Tensor::normal({4, 6}, 5).set_requires_grad(), next1 = Tensor::normal({4, 6}, 6);
  const double expected = loss_fn(next0, next1).item();
  CHECK(restored(next0, next1).item() == expected);
  CHECK(restored.memory_bank_pointer() == loss_fn.memory_bank_pointer());
  CHECK_THROWS_AS(restored.load_state_tensors({{"memory_bank", saved.at("memory_bank")}}), Error);
  // The trainer's way: create the bank up front, copy the saved tensors into the live ones.
  NTXentLoss live(options);
  live.ensure_memory_bank(6, Device::cpu());
  for (auto& [name, t] : live.state_tensors()) t.copy_from(saved.at(name));
  CHECK(live(next0, next1).item() == expected);
  CHECK(live.memory_bank_pointer() == loss_fn.memory_bank_pointer());
  testing::check_close(live.memory_bank(), loss_fn.memory_bank(), 0, "bank after resume");
  Tensor wrong_dim = Tensor::normal({4, 5}, 3);
  CHECK_THROWS_WITH_AS(loss_fn(wrong_dim, wrong_dim), doctest::Contains("memory bank"), Error);
}

TEST_CASE("NT-Xent in bf16 and f16 computes in f32 and returns gradients in the input dtype") {
  Tensor a = Tensor::normal({8, 16}, 11), b = Tensor::normal({8, 16}, 12);
  NTXentLoss loss_fn({0.2});
  Tensor a32 = a.clone().set_requires_grad(), b32 = b.clone().set_requires_grad();
  Tensor ref = loss_fn(a32, b32);
  ref.backward();
  for (DType t : {DType::bf16, DType::f16}) {
    const std::string dtype_label = dtype_name(t);
    CAPTURE(dtype_label);
    Tensor x = a.to(t).set_requires_grad(), y = b.to(t).set_requires_grad();
    Tensor loss = loss_fn(x, y);
    CHECK(loss.dtype() == DType::f32);
    testing::check_close(loss, ref, testing::tolerance(t), "loss");
    loss.backward();
    CHECK(x.grad().dtype() == t);
    check_scaled(x.grad(), a32.grad(), 4 * testing::tolerance(t), "grad out0");
    check_scaled(y.grad(), b32.grad(), 4 * testing::tolerance(t), "grad out1");
  }
}

TEST_CASE("NT-Xent gather_distributed over simulated ranks equals the single-process loss") {
  const int world = 3;
  const int64_t n = 4, dim = 6;
  Tensor full0 = Tensor::normal({world * n, dim}, 21, 0, 1, DType::f64);
  Tensor full1 = Tensor::normal({world * n, dim}, 22, 0, 1, DType::f64);
  // Single process on the whole batch.
  Tensor x0 = full0.clone().set_requires_grad(), x1 = full1.clone().set_requires_grad();
  NTXentLoss single({0.4});
  Tensor full_loss = single(x0, x1);
  full_loss.backward();

  auto group = InProcessGroup::create(world);
  std::vector<double> rank_loss(world);
  std::vector<Tensor> grad0(world), grad1(world);
  std::vector<std::string> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        NTXentOptions options;
        options.temperature = 0.4;
        options.gather_distributed = true;
        NTXentLoss loss_fn(options, group->communicator(r));
        Tensor a = full0.rows(r * n, n).clone().set_requires_grad();
        Tensor b = full1.rows(r * n, n).clone().set_requires_grad();
        Tensor loss = loss_fn(a, b);
        loss.backward();
        rank_loss[r] = loss.item();
        grad0[r] = a.grad();
        grad1[r] = b.grad();
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) REQUIRE_MESSAGE(errors[r].empty(), errors[r]);
  // Every row's logits are the single-process row's, so the mean of the rank losses is the full
  // loss; gradients are summed over ranks (lightly's GatherLayer), so each rank holds
  // d(sum of rank losses)/d(its rows) = world * the full loss's gradient of those rows.
  double mean_loss = 0;
  for (double l : rank_loss) mean_loss += l / world;
  CHECK(mean_loss == doctest::Approx(full_loss.item()).epsilon(1e-12));
  CHECK(rank_loss[0] != doctest::Approx(rank_loss[1]).epsilon(1e-6));  // ranks differ
  for (int r = 0; r < world; ++r) {
    CAPTURE(r);
    check_scaled(grad0[r], scale(x0.grad().rows(r * n, n), world), 1e-12, "grad out0");
    check_scaled(grad1[r], scale(x1.grad().rows(r * n, n), world), 1e-12, "grad out1");
  }
}

TEST_CASE("NT-Xent memory bank with gather_distributed enqueues every rank's view 1") {
  const int world = 2;
  const int64_t n = 3, dim = 4;
  Tensor full1 = Tensor::normal({world * n, dim}, 31);
  auto group = InProcessGroup::create(world);
  std::vector<Tensor> banks(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      NTXentOptions options;
      options.memory_bank_size = 16;
      options.gather_distributed = true;
      NTXentLoss loss_fn(options, group->communicator(r));
      Tensor a = Tensor::normal({n, dim}, 40 + r).set_requires_grad();
      loss_fn(a, full1.rows(r * n, n).clone());
      banks[r] = loss_fn.memory_bank();
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    testing::check_close(banks[r].rows(0, world * n), l2_normalize_rows(full1), 1e-6,
                         "bank rows hold all ranks' normalised view 1 in rank order");
  }
}
