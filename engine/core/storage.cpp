#include "engine/core/storage.h"

#include <cstdlib>
#include <cstring>

namespace lumen {

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device,
                                           std::shared_ptr<CudaContext> ctx) {
  std::shared_ptr<Storage> s(new Storage());
  s->bytes_ = bytes;
  s->device_ = device;
  if (device.is_cpu()) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    s->data_ = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    LUMEN_CHECK(!rounded || s->data_, "out of host memory allocating ", bytes >> 20, " MiB");
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

Storage::~Storage() { std::free(data_); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext*) {
  LUMEN_CHECK(dst_device.is_cpu() && src_device.is_cpu(),
              "copy to or from a CUDA device in a Lumen built without CUDA; use device=cpu");
  if (bytes) std::memcpy(dst, src, bytes);
}
#endif

}  // namespace lumen
