// The GPU side of DataLoader: the resident copy of small datasets, and the pinned double buffer
// with a side copy stream for large ones. See loader.h for the scheme.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>

#include "engine/data/loader.h"
#include "kernels/gather.h"

namespace lumen::data {

namespace {
size_t round_up(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }
}  // namespace

struct DataLoader::GpuState {
  std::shared_ptr<CudaContext> ctx;  // the compute context batches are consumed on
  cudaStream_t copy_stream = nullptr;
  cudaEvent_t allocated = nullptr;  // recorded on the compute stream after a batch's allocation

  // Resident path: the whole dataset on the GPU.
  Tensor images;  // (N, H, W, 3) u8
  Tensor labels;  // (N) i64

  // One pinned staging buffer, its last copy's event, and (streamed path) the batch it feeds.
  struct Slot {
    std::shared_ptr<Storage> pinned;
    cudaEvent_t copied = nullptr;  // the copy out of `pinned` has finished
    bool in_use = false;
    bool holds_batch = false;
    Batch batch;
  };
  Slot slots[2];
  int next_slot = 0;
  int pending_slot = -1;

  // Waits (host side) until a slot's staging buffer may be written again.
  void wait_staging(Slot& slot) {
    if (slot.in_use) LUMEN_CUDA_CHECK(cudaEventSynchronize(slot.copied));
  }
  // Drops a batch that was never handed out, after ordering its copy before the compute stream
  // (whose pool frees its memory).
  void drop_batch(Slot& slot) {
    if (!slot.holds_batch) return;
    LUMEN_CUDA_CHECK(cudaStreamWaitEvent(ctx->stream(), slot.copied, 0));
    slot.batch = Batch{};
    slot.holds_batch = false;
  }

  ~GpuState() {
    if (!ctx) return;
    cudaSetDevice(ctx->device());
    for (Slot& slot : slots) {
      if (slot.holds_batch) cudaStreamWaitEvent(ctx->stream(), slot.copied, 0);
      slot.batch = Batch{};
    }
    if (copy_stream) {
      const cudaError_t status = cudaStreamSynchronize(copy_stream);
      if (status != cudaSuccess) {
        std::fprintf(stderr, "lumen: data loader copy stream failed: %s\n",
                     cudaGetErrorString(status));
      }
    }
    for (Slot& slot : slots) {
      if (slot.copied) cudaEventDestroy(slot.copied);
    }
    if (allocated) cudaEventDestroy(allocated);
    if (copy_stream) cudaStreamDestroy(copy_stream);
  }
};

void DataLoader::GpuStateDeleter::operator()(GpuState* state) const { delete state; }

void DataLoader::gpu_setup() {
  gpu_.reset(new GpuState());
  GpuState& g = *gpu_;
  g.ctx = CudaContext::default_for(options_.device.index);
  LUMEN_CUDA_CHECK(cudaSetDevice(g.ctx->device()));
  for (GpuState::Slot& slot : g.slots) {
    LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming));
  }
  if (gpu_resident_) {
    g.images = Tensor::empty({dataset_.size(), dataset_.height, dataset_.width, 3}, DType::u8,
                             options_.device);
    copy_bytes(g.images.raw_data(), options_.device, dataset_.pixels.get(), Device::cpu(),
               g.images.nbytes(), g.ctx.get());
    g.labels = Tensor::empty({dataset_.size()}, DType::i64, options_.device);
    copy_bytes(g.labels.raw_data(), options_.device, dataset_.labels.data(), Device::cpu(),
               g.labels.nbytes(), g.ctx.get());
    return;
  }
  LUMEN_CUDA_CHECK(cudaStreamCreateWithFlags(&g.copy_stream, cudaStreamNonBlocking));
  LUMEN_CUDA_CHECK(cudaEventCreateWithFlags(&g.allocated, cudaEventDisableTiming));
}

Batch DataLoader::gather_gpu_resident(const std::vector<int64_t>& indices) {
  GpuState& g = *gpu_;
  LUMEN_CUDA_CHECK(cudaSetDevice(g.ctx->device()));
  const int64_t b = int64_t(indices.size());
  GpuState::Slot& slot = g.slots[g.next_slot];
  g.next_slot ^= 1;
  g.wait_staging(slot);
  if (!slot.pinned) slot.pinned = Storage::allocate_pinned(size_t(options_.batch_size) * 8);
  std::memcpy(slot.pinned->data(), indices.data(), size_t(b) * 8);
  cudaStream_t stream = g.ctx->stream();
  Batch out;
  out.host_indices = indices;
  out.indices = Tensor::empty({b}, DType::i64, options_.device);
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(out.indices.raw_data(), slot.pinned->data(), size_t(b) * 8,
                                   cudaMemcpyHostToDevice, stream));
  LUMEN_CUDA_CHECK(cudaEventRecord(slot.copied, stream));
  slot.in_use = true;
  out.images = Tensor::empty({b, dataset_.height, dataset_.width, 3}, DType::u8, options_.device);
  kernels::gather_rows_cuda(g.images.data<uint8_t>(), int64_t(dataset_.image_bytes()),
                            out.indices.data<int64_t>(), b, out.images.data<uint8_t>(), stream);
  out.labels = Tensor::empty({b}, DType::i64, options_.device);
  kernels::gather_i64_cuda(g.labels.data<int64_t>(), out.indices.data<int64_t>(), b,
                           out.labels.data<int64_t>(), stream);
  return out;
}

void DataLoader::gpu_prefetch(int64_t batch) {
  GpuState& g = *gpu_;
  LUMEN_CUDA_CHECK(cudaSetDevice(g.ctx->device()));
  const std::vector<int64_t> indices = batch_indices(batch);
  const int64_t b = int64_t(indices.size());
  const size_t image_bytes = size_t(b) * dataset_.image_bytes();
  const size_t labels_at = round_up(size_t(options_.batch_size) * dataset_.image_bytes(), 256);
  const size_t indices_at = labels_at + size_t(options_.batch_size) * 8;
  const int k = g.next_slot;
  g.next_slot ^= 1;
  GpuState::Slot& slot = g.slots[k];
  g.drop_batch(slot);
  g.wait_staging(slot);
  if (!slot.pinned) slot.pinned = Storage::allocate_pinned(indices_at + size_t(options_.batch_size) * 8);

  // Host gather into pinned memory: images, labels, indices.
  auto* staging = static_cast<uint8_t*>(slot.pinned->data());
  kernels::gather_rows_cpu(dataset_.pixels.get(), int64_t(dataset_.image_bytes()), indices.data(),
                           b, staging);
  auto* labels = reinterpret_cast<int64_t*>(staging + labels_at);
  for (int64_t i = 0; i < b; ++i) labels[i] = dataset_.labels[size_t(indices[size_t(i)])];
  std::memcpy(staging + indices_at, indices.data(), size_t(b) * 8);

  // Device tensors come from the compute stream's pool; the copy stream waits for that.
  Batch out;
  out.host_indices = indices;
  out.images = Tensor::empty({b, dataset_.height, dataset_.width, 3}, DType::u8, options_.device);
  out.labels = Tensor::empty({b}, DType::i64, options_.device);
  out.indices = Tensor::empty({b}, DType::i64, options_.device);
  LUMEN_CUDA_CHECK(cudaEventRecord(g.allocated, g.ctx->stream()));
  LUMEN_CUDA_CHECK(cudaStreamWaitEvent(g.copy_stream, g.allocated, 0));
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(out.images.raw_data(), staging, image_bytes,
                                   cudaMemcpyHostToDevice, g.copy_stream));
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(out.labels.raw_data(), staging + labels_at, size_t(b) * 8,
                                   cudaMemcpyHostToDevice, g.copy_stream));
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(out.indices.raw_data(), staging + indices_at, size_t(b) * 8,
                                   cudaMemcpyHostToDevice, g.copy_stream));
  LUMEN_CUDA_CHECK(cudaEventRecord(slot.copied, g.copy_stream));
  slot.in_use = true;
  slot.batch = std::move(out);
  slot.holds_batch = true;
  g.pending_slot = k;
}

Batch DataLoader::gpu_take_prefetched() {
  GpuState& g = *gpu_;
  LUMEN_CHECK(g.pending_slot >= 0 && g.slots[g.pending_slot].holds_batch,
              "data loader has no prefetched batch (internal error)");
  GpuState::Slot& slot = g.slots[g.pending_slot];
  LUMEN_CUDA_CHECK(cudaSetDevice(g.ctx->device()));
  // Work queued on the compute stream from here on sees the copied batch.
  LUMEN_CUDA_CHECK(cudaStreamWaitEvent(g.ctx->stream(), slot.copied, 0));
  Batch out = std::move(slot.batch);
  slot.batch = Batch{};
  slot.holds_batch = false;
  g.pending_slot = -1;
  return out;
}

}  // namespace lumen::data
