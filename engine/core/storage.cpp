#include "engine/core/storage.h"

#include <cstdlib>
#include <cstring>
#include <iterator>
#include <list>
#include <mutex>
#include <unordered_map>

namespace lumen {

namespace {

// Smaller blocks come from the C allocator's own free lists without page faults.
constexpr size_t kMinCachedBytes = size_t(128) << 10;
// Upper bound on the bytes held by released blocks awaiting reuse.
constexpr size_t kMaxCachedBytes = size_t(1) << 30;

size_t rounded_bytes(size_t bytes) { return (bytes + 63) / 64 * 64; }

class HostBlockCache {
 public:
  // A cached block of exactly `bytes` (already rounded), or nullptr.
  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_size_.find(bytes);
    if (it == by_size_.end()) return nullptr;
    void* data = it->second->data;
    by_age_.erase(it->second);
    by_size_.erase(it);
    cached_ -= bytes;
    return data;
  }

  // Keeps `data` for reuse, freeing the oldest blocks when the cache would exceed its bound.
  void put(void* data, size_t bytes) {
    if (bytes > kMaxCachedBytes) {
      std::free(data);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    while (cached_ + bytes > kMaxCachedBytes) {
      const Block oldest = by_age_.front();
      auto range = by_size_.equal_range(oldest.bytes);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second == by_age_.begin()) {
          by_size_.erase(it);
          break;
        }
      }
      by_age_.pop_front();
      cached_ -= oldest.bytes;
      std::free(oldest.data);
    }
    by_age_.push_back({data, bytes});
    by_size_.emplace(bytes, std::prev(by_age_.end()));
    cached_ += bytes;
  }

  // Frees every cached block (when the system is out of memory).
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Block& b : by_age_) std::free(b.data);
    by_age_.clear();
    by_size_.clear();
    cached_ = 0;
  }

 private:
  struct Block {
    void* data;
    size_t bytes;
  };
  std::mutex mutex_;
  std::list<Block> by_age_;  // oldest release first
  std::unordered_multimap<size_t, std::list<Block>::iterator> by_size_;
  size_t cached_ = 0;
};

// Never destroyed: tensors with static storage may release blocks during exit.
HostBlockCache& host_cache() {
  static HostBlockCache* cache = new HostBlockCache();
  return *cache;
}

}  // namespace

void* host_allocate(size_t bytes) {
  const size_t rounded = rounded_bytes(bytes);
  if (rounded == 0) return nullptr;
  if (rounded >= kMinCachedBytes) {
    if (void* data = host_cache().take(rounded)) return data;
  }
  void* data = std::aligned_alloc(64, rounded);
  if (data == nullptr) {
    host_cache().clear();
    data = std::aligned_alloc(64, rounded);
  }
  return data;
}

void host_release(void* data, size_t bytes) {
  if (data == nullptr) return;
  const size_t rounded = rounded_bytes(bytes);
  if (rounded >= kMinCachedBytes) {
    host_cache().put(data, rounded);
  } else {
    std::free(data);
  }
}

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device,
                                           std::shared_ptr<CudaContext> ctx) {
  std::shared_ptr<Storage> s(new Storage());
  s->bytes_ = bytes;
  s->device_ = device;
  if (device.is_cpu()) {
    s->data_ = host_allocate(bytes);
    LUMEN_CHECK(bytes == 0 || s->data_, "out of host memory allocating ", bytes >> 20, " MiB");
    return s;
  }
  s->ctx_ = ctx ? std::move(ctx) : CudaContext::default_for(device.index);
  LUMEN_CHECK(s->ctx_->device() == device.index, "context of cuda:", s->ctx_->device(),
              " used to allocate on ", device.str());
  s->data_ = s->ctx_->allocate(bytes);
  return s;
}

#if !defined(LUMEN_WITH_CUDA)
std::shared_ptr<Storage> Storage::allocate_pinned(size_t bytes) {
  return allocate(bytes, Device::cpu());
}

Storage::~Storage() { host_release(data_, bytes_); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext*) {
  LUMEN_CHECK(dst_device.is_cpu() && src_device.is_cpu(),
              "copy to or from a CUDA device in a Lumen built without CUDA; use device=cpu");
  if (bytes) std::memcpy(dst, src, bytes);
}
#endif

}  // namespace lumen
