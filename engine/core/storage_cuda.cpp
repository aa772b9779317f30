// The CUDA side of Storage: pinned host blocks and copies that involve the GPU.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/core/storage.h"

namespace lumen {

std::shared_ptr<Storage> Storage::allocate_pinned(size_t bytes) {
  if (!cuda_available()) return allocate(bytes, Device::cpu());
  std::shared_ptr<Storage> s(new Storage());
  s->bytes_ = bytes;
  s->pinned_ = true;
  if (bytes) LUMEN_CUDA_CHECK(cudaMallocHost(&s->data_, bytes));
  return s;
}

Storage::~Storage() {
  if (!data_) return;
  if (device_.is_cuda()) {
    ctx_->release(data_);
  } else if (pinned_) {
    cudaError_t status = cudaFreeHost(data_);
    if (status != cudaSuccess) {
      std::fprintf(stderr, "lumen: cudaFreeHost failed: %s\n", cudaGetErrorString(status));
    }
  } else {
    host_release(data_, bytes_);
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext* ctx) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  LUMEN_CHECK(ctx, "copy involving ", dst_device.str(), " and ", src_device.str(),
              " needs a CUDA context");
  cudaMemcpyKind kind = dst_device.is_cpu()   ? cudaMemcpyDeviceToHost
                        : src_device.is_cpu() ? cudaMemcpyHostToDevice
                                              : cudaMemcpyDeviceToDevice;
  LUMEN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, ctx->stream()));
  // The host must be able to read (or reuse) its buffer as soon as the call returns.
  if (dst_device.is_cpu() || src_device.is_cpu()) ctx->synchronize();
}

}  // namespace lumen
