#include "layers/nn_memory_bank.h"

#include "engine/autograd/tape.h"
#include "engine/ops/index_rows.h"
#include "engine/ops/nearest.h"

namespace lumen {

NNMemoryBank::NNMemoryBank(int64_t size, uint64_t seed) : bank_(size, seed) {}

Tensor NNMemoryBank::forward(const Tensor& output, bool update) {
  check_defined(output, "NNMemoryBank");
  LUMEN_CHECK(output.ndim() == 2 && output.size(0) > 0 && output.size(1) > 0 &&
                  dtype_is_float(output.dtype()),
              "NNMemoryBank expects float outputs (batch, dim) with batch, dim > 0, got ",
              output.str());
  NoGrad no_grad;
  bank_.ensure(output.size(1), output.device(), output.dtype());
  const Tensor& bank = bank_.bank();
  LUMEN_CHECK(bank.size(1) == output.size(1) && bank.device() == output.device(),
              "NNMemoryBank: the bank holds ", bank.str(), " but the outputs are ", output.str(),
              "; keep the embedding dim and device fixed across steps");
  const Tensor queries = output.dtype() == bank.dtype() ? output.detach() : output.to(bank.dtype());
  Tensor neighbours = index_rows(bank, cosine_nearest_rows(queries, bank));
  if (neighbours.dtype() != output.dtype()) neighbours = neighbours.to(output.dtype());
  if (update) bank_.enqueue(output);
  return neighbours;
}

}  // namespace lumen
