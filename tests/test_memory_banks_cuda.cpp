// GPU against CPU for the memory banks and the ops underneath: cosine_nearest_rows (the GEMM and
// the row argmax, ties included), index_rows, MemoryBank's FIFO and NNMemoryBank's lookups. Skips
// (saying so) where no CUDA device is present.
#include "support/testing.h"

#include "engine/ops/index_rows.h"
#include "engine/ops/nearest.h"
#include "layers/nn_memory_bank.h"
#include "losses/memory_bank.h"

using namespace lumen;

namespace {
const Device kGpu = Device::cuda(0);
}

TEST_CASE("GPU: cosine_nearest_rows picks the CPU's rows (f32/f64, ties, wide banks)") {
  if (!testing::cuda_or_skip()) return;
  for (DType t : {DType::f32, DType::f64}) {
    const std::string dtype_label = dtype_name(t);
    CAPTURE(dtype_label);
    // 5000 keys: each row is reduced over many strides of a block. Queries are noisy copies of
    // keys, so every row has a clear winner on both devices.
    Tensor keys = Tensor::normal({5000, 40}, 1, 0, 1, t);
    Tensor idx =
        Tensor::from_vector(std::vector<double>{17, 4999, 0, 2500, 17, 1234, 8}, {7}, DType::i64);
    std::vector<double> q = index_rows(keys, idx).to_doubles();
    const std::vector<double> noise = Tensor::normal({7, 40}, 2, 0, 0.01, DType::f64).to_doubles();
    for (size_t i = 0; i < q.size(); ++i) q[i] += noise[i];
    Tensor queries = Tensor::from_vector(q, {7, 40}, t);
    Tensor cpu = cosine_nearest_rows(queries, keys);
    Tensor gpu = cosine_nearest_rows(queries.to(kGpu), keys.to(kGpu));
    CHECK(gpu.device() == kGpu);
    CHECK(gpu.to_doubles() == cpu.to_doubles());
    CHECK(cpu.to_doubles() == idx.to_doubles());
    // Exact ties (duplicated keys): the first index on both devices.
    Tensor dup = Tensor::zeros({600, 3}, t);
    dup.rows(100, 1).fill(1.0);
    dup.rows(450, 1).fill(1.0);
    Tensor one = Tensor::full({1, 3}, 2.0, t);
    CHECK(cosine_nearest_rows(one.to(kGpu), dup.to(kGpu)).item() == 100);
    CHECK(cosine_nearest_rows(one, dup).item() == 100);
  }
}

TEST_CASE("GPU: index_rows, MemoryBank and NNMemoryBank match the CPU") {
  if (!testing::cuda_or_skip()) return;
  Tensor x = Tensor::normal({50, 3, 7}, 3, 0, 1, DType::bf16);  // 42-byte rows: the byte path
  Tensor idx = Tensor::from_vector(std::vector<double>{3, 49, 0, 3}, {4}, DType::i64);
  CHECK(testing::max_relative_error(index_rows(x.to(kGpu), idx.to(kGpu)), index_rows(x, idx)) == 0);

  MemoryBank cpu_bank(37, 4), gpu_bank(37, 4);
  NNMemoryBank cpu_nn(300, 5), gpu_nn(300, 5);
  for (int step = 0; step < 6; ++step) {
    CAPTURE(step);
    Tensor rows = Tensor::normal({16, 24}, 10 + step);
    cpu_bank.enqueue(rows);
    gpu_bank.enqueue(rows.to(kGpu));
    CHECK(gpu_bank.pointer() == cpu_bank.pointer());
    CHECK(testing::max_relative_error(gpu_bank.bank(), cpu_bank.bank()) <= 1e-6);
    Tensor c = cpu_nn(rows, step % 2 == 1);
    Tensor g = gpu_nn(rows.to(kGpu), step % 2 == 1);
    CHECK(testing::max_relative_error(g, c) <= 1e-6);
    CHECK(gpu_nn.memory_bank().pointer() == cpu_nn.memory_bank().pointer());
  }
}
