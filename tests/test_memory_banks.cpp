// Memory banks against lightly's own MemoryBankModule and NNMemoryBankModule
// (tests/fixtures/ssl_memory_banks, made by tools/fixtures/ssl_losses_heads.py): the FIFO and its
// wrap-around, the nearest-neighbour lookup and its update order; the random start, checkpoint
// state, and the ops underneath (cosine_nearest_rows, index_rows).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cmath>

#include "engine/io/safetensors.h"
#include "engine/ops/index_rows.h"
#include "engine/ops/nearest.h"
#include "engine/ops/ops.h"
#include "layers/nn_memory_bank.h"
#include "losses/memory_bank.h"

using namespace lumen;

namespace {

const std::map<std::string, Tensor>& fixture() {
  static const std::map<std::string, Tensor> t =
      load_safetensors("fixtures/ssl_memory_banks.safetensors").tensors;
  return t;
}
const Tensor& entry(const std::string& key) {
  auto it = fixture().find(key);
  REQUIRE_MESSAGE(it != fixture().end(), "fixture lacks " << key);
  return it->second;
}
bool has(const std::string& key) { return fixture().count(key) != 0; }

}  // namespace

TEST_CASE("MemoryBank is lightly's FIFO: pointer, wrap-around and dropped rows (fixtures)") {
  for (int size : {10, 8}) {
    CAPTURE(size);
    const std::string pre = "fifo" + std::to_string(size) + ".";
    for (DType dtype : {DType::f32, DType::f64}) {
      const std::string dtype_label = dtype_name(dtype);
      CAPTURE(dtype_label);
      MemoryBank bank(size);
      bank.set(entry(pre + "start").to(dtype), 0);
      CHECK(bank.bank().dtype() == dtype);
      for (int i = 0; has(pre + std::to_string(i) + ".batch"); ++i) {
        CAPTURE(i);
        const std::string call = pre + std::to_string(i) + ".";
        // lightly's forward returns the bank before the update
        CHECK(testing::max_relative_error(bank.bank(), entry(call + "returned")) == 0);
        if (entry(call + "update").item() != 0) bank.enqueue(entry(call + "batch").to(dtype));
        CHECK(testing::max_relative_error(bank.bank(), entry(call + "bank")) == 0);
        CHECK(bank.pointer() == int64_t(entry(call + "pointer").item()));
      }
    }
  }
}

TEST_CASE("NNMemoryBank is lightly's NNMemoryBankModule: raw rows, lookup before update") {
  for (DType dtype : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(dtype);
    CAPTURE(dtype_label);
    NNMemoryBank nn(10);
    nn.memory_bank().set(entry("nn.start").to(dtype), 0);
    int calls = 0;
    for (int i = 0; has("nn." + std::to_string(i) + ".output"); ++i, ++calls) {
      CAPTURE(i);
      const std::string call = "nn." + std::to_string(i) + ".";
      Tensor output = entry(call + "output").to(dtype).set_requires_grad();
      Tensor neighbours = nn(output, entry(call + "update").item() != 0);
      CHECK(neighbours.dtype() == dtype);
      CHECK(!neighbours.requires_grad());
      // the bank's rows exactly, as stored (raw, not normalised)
      CHECK(testing::max_relative_error(neighbours, entry(call + "neighbours")) == 0);
      CHECK(testing::max_relative_error(nn.memory_bank().bank(), entry(call + "bank")) == 0);
      CHECK(nn.memory_bank().pointer() == int64_t(entry(call + "pointer").item()));
    }
    CHECK(calls == 4);
  }
  // bf16 outputs: the bank stays f32, neighbours come back in bf16
  NNMemoryBank nn(10);
  nn.memory_bank().set(entry("nn.start"), 0);
  Tensor neighbours = nn(entry("nn.0.output").to(DType::bf16), true);
  CHECK(neighbours.dtype() == DType::bf16);
  CHECK(nn.memory_bank().bank().dtype() == DType::f32);
  testing::check_close(neighbours, entry("nn.0.neighbours"), testing::tolerance(DType::bf16),
                       "bf16 neighbours");
}

TEST_CASE("MemoryBank starts as seeded random unit rows; state tensors are live") {
  MemoryBank bank(12, /*seed=*/5);
  CHECK(!bank.defined());
  CHECK(bank.state_tensors().empty());
  bank.ensure(6, Device::cpu());
  REQUIRE(bank.defined());
  CHECK(bank.bank().shape() == Shape{12, 6});
  CHECK(bank.pointer() == 0);
  testing::check_close(l2_normalize_rows(bank.bank()), bank.bank(), 1e-6, "unit rows");
  MemoryBank same(12, 5), other(12, 6);
  same.ensure(6, Device::cpu());
  other.ensure(6, Device::cpu());
  CHECK(testing::max_relative_error(same.bank(), bank.bank()) == 0);
  CHECK(testing::max_relative_error(other.bank(), bank.bank()) > 0.1);
  bank.ensure(6, Device::cpu());  // exists: unchanged
  CHECK(testing::max_relative_error(same.bank(), bank.bank()) == 0);
  // A bank made by the first enqueue takes the rows' dim; f64 rows make an f64 bank.
  MemoryBank lazy(4);
  lazy.enqueue(Tensor::normal({2, 3}, 1, 0, 1, DType::f64));
  CHECK(lazy.bank().dtype() == DType::f64);
  CHECK(lazy.bank().shape() == Shape{4, 3});
  CHECK(lazy.pointer() == 2);

  // Live state: copying saved values in restores the bank; load_state_tensors does the same.
  bank.enqueue(Tensor::normal({5, 6}, 2));
  std::map<std::string, Tensor> saved;
  for (const auto& [name, t] : bank.state_tensors()) saved[name] = t.clone();
  CHECK(saved.at("pointer").item() == 5);
  MemoryBank live(12, 99);
  live.ensure(6, Device::cpu());
  for (auto& [name, t] : live.state_tensors()) t.copy_from(saved.at(name));
  CHECK(live.pointer() == 5);
  CHECK(testing::max_relative_error(live.bank(), bank.bank()) == 0);
  MemoryBank loaded(12);
  loaded.load_state_tensors(saved);
  CHECK(loaded.pointer() == 5);
  CHECK(testing::max_relative_error(loaded.bank(), bank.bank()) == 0);
  NNMemoryBank nn(12);
  CHECK(nn.state_tensors().empty());
  nn.load_state_tensors(saved);
  CHECK(nn.state_tensors().at("pointer").item() == 5);
}

TEST_CASE("memory banks reject bad sizes, shapes, pointers and state with clear errors") {
  CHECK_THROWS_WITH_AS(MemoryBank(0), doctest::Contains("size"), Error);
  CHECK_THROWS_WITH_AS(NNMemoryBank(-3), doctest::Contains("size"), Error);
  MemoryBank bank(6);
  CHECK_THROWS_WITH_AS(bank.set(Tensor::normal({5, 3}, 1)), doctest::Contains("(6, dim)"), Error);
  CHECK_THROWS_WITH_AS(bank.set(Tensor::normal({6, 3}, 1), 6), doctest::Contains("pointer"), Error);
  CHECK_THROWS_WITH_AS(bank.enqueue(Tensor::normal({6}, 1)), doctest::Contains("(batch, dim)"),
                       Error);
  bank.ensure(3, Device::cpu());
  CHECK_THROWS_WITH_AS(bank.enqueue(Tensor::normal({2, 4}, 1)), doctest::Contains("embedding dim"),
                       Error);
  CHECK_THROWS_WITH_AS(bank.load_state_tensors({{"bank", Tensor::normal({6, 3}, 1)}}),
                       doctest::Contains("pointer"), Error);
  NNMemoryBank nn(6);
  nn(Tensor::normal({2, 3}, 1));
  CHECK_THROWS_WITH_AS(nn(Tensor::normal({2, 4}, 1)), doctest::Contains("embedding dim"), Error);
  CHECK_THROWS_WITH_AS(nn(Tensor::zeros({2, 3}, DType::i32)), doctest::Contains("float"), Error);
}

TEST_CASE("cosine_nearest_rows: cosine, not dot product; the first maximum; NaN wins") {
  // keys: a long row along x, a short row along y; the query along y is nearer the short one.
  Tensor keys = Tensor::from_vector(std::vector<float>{10, 0, 0, 0.1f, 1, 1}, {3, 2});
  Tensor queries = Tensor::from_vector(std::vector<float>{0, 1, 1, 0, 1, 1, -1, -2}, {4, 2});
  CHECK(cosine_nearest_rows(queries, keys).to_doubles() == std::vector<double>{1, 0, 2, 0});
  // ties: the first index; a duplicated key picks the lower row
  Tensor dup = Tensor::from_vector(std::vector<float>{1, 0, 0, 1, 0, 1}, {3, 2});
  CHECK(cosine_nearest_rows(Tensor::from_vector(std::vector<float>{0, 2}, {1, 2}), dup).item() ==
        1);
  // a NaN similarity wins, as in torch.argmax
  Tensor nan_keys = Tensor::from_vector(std::vector<float>{1, 0, NAN, 1}, {2, 2});
  CHECK(
      cosine_nearest_rows(Tensor::from_vector(std::vector<float>{1, 0}, {1, 2}), nan_keys).item() ==
      1);
  CHECK_THROWS_WITH_AS(cosine_nearest_rows(queries, Tensor::zeros({0, 2})),
                       doctest::Contains("cosine_nearest_rows"), Error);
  CHECK_THROWS_AS(cosine_nearest_rows(queries, keys.to(DType::f64)), Error);
}

TEST_CASE("index_rows picks rows of any dtype and checks CPU indices") {
  Tensor x = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {3, 1, 2}, DType::f64);
  Tensor idx = Tensor::from_vector(std::vector<double>{2, 0, 2}, {3}, DType::i64);
  Tensor y = index_rows(x, idx);
  CHECK(y.shape() == Shape{3, 1, 2});
  CHECK(y.to_doubles() == std::vector<double>{4, 5, 0, 1, 4, 5});
  CHECK(index_rows(x.to(DType::bf16), idx).dtype() == DType::bf16);
  Tensor bad = Tensor::from_vector(std::vector<double>{1, 3}, {2}, DType::i64);
  CHECK_THROWS_WITH_AS(index_rows(x, bad), doctest::Contains("outside [0, 3)"), Error);
  CHECK_THROWS_AS(index_rows(x, idx.to(DType::i32)), Error);
}
