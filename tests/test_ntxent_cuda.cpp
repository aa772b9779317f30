// NT-Xent on the GPU against the CPU: plain and memory-bank mode, f32, f64 and bf16. The suite is
// skipped (support/cuda_main.cpp) where no CUDA device is present.
#include "support/testing.h"

#include "losses/ntxent.h"

using namespace lumen;
using testing::check_scaled;

TEST_CASE("GPU: NT-Xent matches the CPU (plain and memory bank, f32/f64/bf16)") {
  if (!testing::cuda_or_skip()) return;
  const Device gpu = Device::cuda(0);
  for (DType t : {DType::f32, DType::f64, DType::bf16}) {
    for (int64_t bank_size : {int64_t(0), int64_t(300)}) {
      const std::string dtype_label = dtype_name(t);
      CAPTURE(dtype_label);
      CAPTURE(bank_size);
      const int64_t n = 67, dim = 40;  // not multiples of any block size
      Tensor a = Tensor::normal({n, dim}, 51, 0, 1, t), b = Tensor::normal({n, dim}, 52, 0, 1, t);
      NTXentOptions options;
      options.temperature = 0.1;
      options.memory_bank_size = bank_size;
      options.memory_bank_seed = 9;
      NTXentLoss cpu_fn(options), gpu_fn(options);
      Tensor ac = a.clone().set_requires_grad(), bc = b.clone().set_requires_grad();
      Tensor ag = a.to(gpu).set_requires_grad(), bg = b.to(gpu).set_requires_grad();
      // Each loss is backpropagated before the next forward: backward() clears the tape.
      Tensor lc = cpu_fn(ac, bc);
      lc.backward();
      Tensor lg = gpu_fn(ag, bg);
      lg.backward();
      const double tol = t == DType::bf16 ? testing::tolerance(t) : 10 * testing::tolerance(t);
      testing::check_close(lg, lc, tol, "loss");
      check_scaled(ag.grad(), ac.grad(), tol, "grad out0");
      check_scaled(bg.grad(), bc.grad(), tol, "grad out1");
      if (bank_size > 0) {
        testing::check_close(gpu_fn.memory_bank(), cpu_fn.memory_bank(), 1e-5, "bank");
        CHECK(gpu_fn.memory_bank_pointer() == cpu_fn.memory_bank_pointer());
      }
    }
  }
}
