// The data loader: shuffled epochs over an ImageDataset, batch by batch, on the CPU or a GPU.
//
//   order     epoch_order(n, seed, epoch): a Fisher-Yates shuffle drawn from Philox keyed by
//             (seed, epoch), so the same (seed, epoch) gives the same order on every machine;
//             drop_last leaves out the last partial batch.
//   ranks     with world_size > 1 each rank reads its shard of the epoch, as torch's
//             DistributedSampler(shuffle, drop_last=True): every rank draws the same order, keeps
//             its first world_size * floor(n / world_size) positions and takes every
//             world_size-th from position `rank`. Step s of rank r is then part of step s of a
//             single process with world_size times the batch (the positions of that batch of
//             the same epoch order, interleaved by rank).
//   CPU       each batch is gathered into fresh host tensors.
//   GPU       datasets up to gpu_resident_bytes (default 1 GiB: CIFAR, Fashion-MNIST) are copied
//             to the GPU once and each batch is gathered there by index (the host sends only the
//             indices). Larger ones are gathered on the host into pinned staging buffers and copied
//             on a side stream one batch ahead, so the copy of batch t+1 overlaps the step that
//             consumes batch t; CUDA events order the copy before its use and the reuse of a
//             staging buffer after its copy. Batches live in fresh tensors from the context's
//             stream-ordered pool, so a batch stays valid as long as it is held.
//
// A batch is u8 images (B, H, W, 3) + i64 labels (B) + i64 dataset indices (B), all on the
// loader's device; turning the u8 images into augmented views is augment/'s job.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace lumen::data {

// The order of dataset positions [0, n) in an epoch: a permutation when shuffle, else 0..n-1.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle = true);
// Rank `rank`'s share of an epoch order (see "ranks" above): order[rank::world_size] of the first
// world_size * floor(n / world_size) positions.
std::vector<int64_t> rank_shard(const std::vector<int64_t>& order, int rank, int world_size);

struct LoaderOptions {
  int64_t batch_size = 256;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;  // lightly's SimCLR training drops the last partial batch
  Device device = Device::cpu();
  int rank = 0, world_size = 1;                 // this process's shard of each epoch
  size_t gpu_resident_bytes = size_t(1) << 30;  // keep datasets up to this size on the GPU whole
};

struct Batch {
  Tensor images;                      // (B, H, W, 3) u8
  Tensor labels;                      // (B) i64
  Tensor indices;                     // (B) i64, positions in the dataset
  std::vector<int64_t> host_indices;  // the same indices on the host (for filenames)
};

class DataLoader {
 public:
  DataLoader(ImageDataset dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const ImageDataset& dataset() const { return dataset_; }
  const LoaderOptions& options() const { return options_; }
  int64_t batches_per_epoch() const;
  int64_t shard_size() const;  // positions this rank reads per epoch
  bool gpu_resident() const { return gpu_resident_; }

  // Starts (or restarts) an epoch: its order comes from (seed, epoch).
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false when the epoch is over.
  bool next(Batch* batch);

  struct GpuState;  // streams, events, staging buffers and the resident copy (loader_cuda.cpp)
  struct GpuStateDeleter {
    void operator()(GpuState* state) const;
  };

 private:
  std::vector<int64_t> batch_indices(int64_t batch) const;
  Batch gather_cpu(const std::vector<int64_t>& indices) const;
  // GPU paths, defined in loader_cuda.cpp.
  void gpu_setup();
  Batch gather_gpu_resident(const std::vector<int64_t>& indices);
  void gpu_prefetch(int64_t batch);  // starts gathering and copying `batch` (streamed path)
  Batch gpu_take_prefetched();       // the prefetched batch, ordered before the compute stream

  ImageDataset dataset_;
  LoaderOptions options_;
  bool gpu_resident_ = false;
  int64_t epoch_ = -1;
  int64_t next_batch_ = 0;
  std::vector<int64_t> order_;
  std::unique_ptr<GpuState, GpuStateDeleter> gpu_;
};

}  // namespace lumen::data
