#include "engine/ops/batch_shuffle.h"

#include <algorithm>

#include "engine/ops/index_rows.h"
#include "kernels/philox.cuh"

namespace lumen {

namespace {
// The batch shuffle's Philox stream, apart from the loader's and the augmentations'.
constexpr uint64_t kBatchShuffleStream = uint64_t(0x4D4F434Full) << 32;  // "MOCO"

Tensor indices_on(const std::vector<int64_t>& v, const Tensor& like) {
  Tensor host = Tensor::empty({int64_t(v.size())}, DType::i64);
  std::copy(v.begin(), v.end(), host.data<int64_t>());
  if (!like.is_cuda()) return host;
  Tensor out = Tensor::empty_on(host.shape(), DType::i64, like);  // in like's CUDA context
  out.copy_from(host);
  return out;
}
}  // namespace

std::vector<int64_t> batch_permutation(int64_t n, uint64_t seed, int64_t step) {
  LUMEN_CHECK(n >= 0 && step >= 0, "batch_permutation: n ", n, " and step ", step,
              " must not be negative");
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  philox_shuffle(order.data(), n, seed, kBatchShuffleStream ^ uint64_t(step));
  return order;
}

BatchShuffle batch_shuffle(const Tensor& x, uint64_t seed, int64_t step, Communicator* comm) {
  check_defined(x, "batch_shuffle");
  LUMEN_CHECK(x.ndim() >= 1 && x.size(0) > 0, "batch_shuffle: expects a batch (B, ...), got ",
              x.str());
  const bool across = comm != nullptr && comm->world_size() > 1;
  const Tensor all = across ? comm->all_gather(x) : x;  // (world B, ...)
  const int64_t b = x.size(0), first = across ? comm->rank() * b : 0;
  BatchShuffle s;
  s.order = batch_permutation(all.size(0), seed, step);
  std::vector<int64_t> inverse(s.order.size());
  for (size_t i = 0; i < s.order.size(); ++i) inverse[size_t(s.order[i])] = int64_t(i);
  s.shuffle = indices_on(s.order, x);
  const std::vector<int64_t> mine(s.order.begin() + first, s.order.begin() + first + b);
  s.unshuffle =
      indices_on(std::vector<int64_t>(inverse.begin() + first, inverse.begin() + first + b), x);
  s.batch = index_rows(all, across ? indices_on(mine, x) : s.shuffle);
  return s;
}

Tensor batch_unshuffle(const Tensor& y, const BatchShuffle& s, Communicator* comm) {
  check_defined(y, "batch_unshuffle");
  const bool across = comm != nullptr && comm->world_size() > 1;
  const int64_t world = across ? comm->world_size() : 1;
  LUMEN_CHECK(y.ndim() >= 1 && y.size(0) * world == int64_t(s.order.size()),
              "batch_unshuffle: ", y.str(), " does not have the ", int64_t(s.order.size()) / world,
              " rows of the shuffled batch");
  check_same_device(y, s.unshuffle, "batch_unshuffle");
  return index_rows(across ? comm->all_gather(y) : y, s.unshuffle);
}

}  // namespace lumen
