#include "engine/data/loader.h"

#include <algorithm>

#include "kernels/gather.h"
#include "kernels/philox.cuh"

namespace lumen::data {

namespace {
// Philox stream of the loader's shuffles, apart from the augmentations' (epoch << 32 | view).
constexpr uint64_t kShuffleStream = uint64_t(0x5348554646ull) << 24;  // "SHUFF"
}  // namespace

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(size_t(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  if (!shuffle) return order;
  const uint64_t stream = kShuffleStream ^ uint64_t(epoch);
  for (int64_t i = n - 1; i > 0; --i) {
    const Philox4 r = philox4x32(seed, stream, uint64_t(i));
    const double u = uints_to_unit_double(r.v[0], r.v[1]);
    int64_t j = int64_t(u * double(i + 1));
    if (j > i) j = i;
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  return order;
}

std::vector<int64_t> rank_shard(const std::vector<int64_t>& order, int rank, int world_size) {
  LUMEN_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "rank_shard: rank ", rank,
              " is not a rank of a job of ", world_size);
  const int64_t per_rank = int64_t(order.size()) / world_size;
  std::vector<int64_t> shard(static_cast<size_t>(per_rank));
  for (int64_t i = 0; i < per_rank; ++i) {
    shard[size_t(i)] = order[size_t(rank + i * world_size)];
  }
  return shard;
}

DataLoader::DataLoader(ImageDataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  dataset_.validate();
  LUMEN_CHECK(options_.batch_size >= 1, "batch_size=", options_.batch_size, " must be at least 1");
  LUMEN_CHECK(dataset_.size() > 0, "the dataset is empty; check input_dir");
  LUMEN_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
              "DataLoader: rank ", options_.rank, " is not a rank of a job of ",
              options_.world_size);
  LUMEN_CHECK(!options_.drop_last || shard_size() >= options_.batch_size, "the dataset has ",
              dataset_.size(), " images",
              options_.world_size > 1 ? ", " + std::to_string(shard_size()) + " for each of " +
                                            std::to_string(options_.world_size) + " ranks,"
                                      : std::string(),
              " fewer than batch_size=", options_.batch_size,
              ", so with drop_last no batch would remain; lower the batch size");
  if (options_.device.is_cuda()) {
    require_device(options_.device);
    gpu_resident_ = dataset_.size() * dataset_.image_bytes() <= options_.gpu_resident_bytes;
    gpu_setup();
  }
}

DataLoader::~DataLoader() = default;

int64_t DataLoader::shard_size() const { return dataset_.size() / options_.world_size; }

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = shard_size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::start_epoch(int64_t epoch) {
  epoch_ = epoch;
  next_batch_ = 0;
  order_ = epoch_order(dataset_.size(), options_.seed, epoch, options_.shuffle);
  if (options_.world_size > 1) order_ = rank_shard(order_, options_.rank, options_.world_size);
  if (options_.device.is_cuda() && !gpu_resident_ && batches_per_epoch() > 0) gpu_prefetch(0);
}

std::vector<int64_t> DataLoader::batch_indices(int64_t batch) const {
  const int64_t start = batch * options_.batch_size;
  const int64_t end = std::min(start + options_.batch_size, int64_t(order_.size()));
  return std::vector<int64_t>(order_.begin() + start, order_.begin() + end);
}

bool DataLoader::next(Batch* batch) {
  LUMEN_CHECK(epoch_ >= 0, "DataLoader::next called before start_epoch");
  if (next_batch_ >= batches_per_epoch()) return false;
  const int64_t current = next_batch_++;
  if (options_.device.is_cpu()) {
    *batch = gather_cpu(batch_indices(current));
  } else if (gpu_resident_) {
    *batch = gather_gpu_resident(batch_indices(current));
  } else {
    *batch = gpu_take_prefetched();
    if (next_batch_ < batches_per_epoch()) gpu_prefetch(next_batch_);
  }
  return true;
}

Batch DataLoader::gather_cpu(const std::vector<int64_t>& indices) const {
  const int64_t b = int64_t(indices.size());
  Batch out;
  out.host_indices = indices;
  out.images = Tensor::empty({b, dataset_.height, dataset_.width, 3}, DType::u8);
  kernels::gather_rows_cpu(dataset_.pixels.get(), int64_t(dataset_.image_bytes()), indices.data(),
                           b, out.images.data<uint8_t>());
  out.labels = Tensor::empty({b}, DType::i64);
  out.indices = Tensor::empty({b}, DType::i64);
  for (int64_t i = 0; i < b; ++i) {
    out.labels.data<int64_t>()[i] = dataset_.labels[size_t(indices[size_t(i)])];
    out.indices.data<int64_t>()[i] = indices[size_t(i)];
  }
  return out;
}

#if !defined(LUMEN_WITH_CUDA)
// A CPU-only build never reaches these: the constructor's require_device refuses CUDA devices.
struct DataLoader::GpuState {};
void DataLoader::GpuStateDeleter::operator()(GpuState* state) const { delete state; }
void DataLoader::gpu_setup() { LUMEN_FAIL("this Lumen was built without CUDA; use device=cpu"); }
Batch DataLoader::gather_gpu_resident(const std::vector<int64_t>&) {
  LUMEN_FAIL("this Lumen was built without CUDA; use device=cpu");
}
void DataLoader::gpu_prefetch(int64_t) {
  LUMEN_FAIL("this Lumen was built without CUDA; use device=cpu");
}
Batch DataLoader::gpu_take_prefetched() {
  LUMEN_FAIL("this Lumen was built without CUDA; use device=cpu");
}
#endif

}  // namespace lumen::data
