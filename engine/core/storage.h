// A block of memory on one device. CPU blocks are 64-byte aligned (page-locked when `pinned`, for
// fast, asynchronous copies to the GPU); CUDA blocks come from the context's stream-ordered pool
// and go back to it, in stream order, when the last tensor using them is gone.
#pragma once

#include <cstddef>
#include <memory>

#include "engine/core/device.h"

namespace lumen {

class Storage {
 public:
  // Allocates `bytes` on `device`. For CUDA, `ctx` selects the context (default: the device's).
  static std::shared_ptr<Storage> allocate(size_t bytes, Device device,
                                           std::shared_ptr<CudaContext> ctx = nullptr);
  static std::shared_ptr<Storage> allocate_pinned(size_t bytes);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }
  const std::shared_ptr<CudaContext>& context() const { return ctx_; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  bool pinned_ = false;
  std::shared_ptr<CudaContext> ctx_;
};

// Plain (not page-locked) host blocks, 64-byte aligned. Large blocks that are released are kept
// for reuse by a later allocation of the same rounded size (a training step allocates the same
// sizes every step), so their pages are not returned to the system and faulted in again each
// time; the cache is bounded and drops its oldest blocks first. Thread-safe.
void* host_allocate(size_t bytes);
void host_release(void* data, size_t bytes);  // `bytes` as passed to host_allocate

// Copies bytes between two blocks that may live on different devices. Copies that involve the GPU
// run on `ctx`'s stream; a copy to the CPU waits for it so the host can read the result.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext* ctx);

}  // namespace lumen
