// CudaContext on the CUDA runtime: a non-blocking stream per context, library handles created on
// first use, allocations from the device's default memory pool (cudaMallocAsync), which keeps freed
// memory cached for reuse instead of returning it to the driver.
#include <cuda_profiler_api.h>

#include <cstdio>
#include <map>
#include <mutex>

#include "engine/core/capture_ledger.h"
#include "engine/core/cuda_handles.h"
#include "engine/ops/cudnn/cudnn_handle.h"

namespace lumen {

void cuda_profiler_start() { LUMEN_CUDA_CHECK(cudaProfilerStart()); }
void cuda_profiler_stop() { LUMEN_CUDA_CHECK(cudaProfilerStop()); }

int cuda_device_count(std::string* reason) {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls are not confused by it
    if (reason) *reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
    return 0;
  }
  if (count == 0 && reason) *reason = "cudaGetDeviceCount found no device";
  return count;
}

struct CudaContextImpl {
  int device = 0;
  cudaStream_t stream = nullptr;
  cudaMemPool_t pool = nullptr;
  cublasHandle_t cublas = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  void* cudnn = nullptr;  // a cudnnHandle_t, made and destroyed in engine/ops/cudnn/
  std::mutex mutex;       // guards lazy handle creation
  CaptureLedger ledger;   // which blocks a graph capture owns, retains or abandoned
};

CudaContext::CudaContext(int device) : impl_(std::make_unique<CudaContextImpl>()) {
  require_device(Device::cuda(device));
  impl_->device = device;
  LUMEN_CUDA_CHECK(cudaSetDevice(device));
  LUMEN_CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
  LUMEN_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&impl_->pool, device));
  // Keep freed blocks in the pool between steps rather than trimming them at every sync.
  uint64_t threshold = UINT64_MAX;
  LUMEN_CUDA_CHECK(
      cudaMemPoolSetAttribute(impl_->pool, cudaMemPoolAttrReleaseThreshold, &threshold));
}

CudaContext::~CudaContext() {
  if (!impl_) return;
  cudaSetDevice(impl_->device);
  cudnn_destroy_handle(impl_->cudnn);
  if (impl_->cublaslt) cublasLtDestroy(impl_->cublaslt);
  if (impl_->cublas) cublasDestroy(impl_->cublas);
  if (impl_->stream) {
    cudaError_t status = cudaStreamSynchronize(impl_->stream);
    if (status != cudaSuccess) {
      std::fprintf(stderr, "lumen: CUDA error while closing a context: %s\n",
                   cudaGetErrorString(status));
    }
    cudaStreamDestroy(impl_->stream);
  }
}

std::shared_ptr<CudaContext> CudaContext::create(int device) {
  return std::shared_ptr<CudaContext>(new CudaContext(device));
}

std::shared_ptr<CudaContext> CudaContext::default_for(int device) {
  static std::mutex mutex;
  static std::map<int, std::shared_ptr<CudaContext>> contexts;
  std::lock_guard<std::mutex> lock(mutex);
  auto& ctx = contexts[device];
  if (!ctx) ctx = create(device);
  return ctx;
}

int CudaContext::device() const { return impl_->device; }
cudaStream_t CudaContext::stream() const { return impl_->stream; }

void CudaContext::synchronize() const { LUMEN_CUDA_CHECK(cudaStreamSynchronize(impl_->stream)); }

void* CudaContext::cublas() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->cublas) {
    LUMEN_CUDA_CHECK(cudaSetDevice(impl_->device));
    LUMEN_CUBLAS_CHECK(cublasCreate(&impl_->cublas));
    LUMEN_CUBLAS_CHECK(cublasSetStream(impl_->cublas, impl_->stream));
  }
  return impl_->cublas;
}

void* CudaContext::cublaslt() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->cublaslt) {
    LUMEN_CUDA_CHECK(cudaSetDevice(impl_->device));
    LUMEN_CUBLAS_CHECK(cublasLtCreate(&impl_->cublaslt));
  }
  return impl_->cublaslt;
}

void* CudaContext::cudnn() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->cudnn) {
    LUMEN_CUDA_CHECK(cudaSetDevice(impl_->device));
    impl_->cudnn = cudnn_create_handle(impl_->stream);
  }
  return impl_->cudnn;
}

void* CudaContext::allocate(size_t bytes) {
  void* ptr = nullptr;
  if (bytes == 0) return nullptr;
  cudaError_t status = cudaMallocFromPoolAsync(&ptr, bytes, impl_->pool, impl_->stream);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    LUMEN_FAIL("out of GPU memory on cuda:", impl_->device, " allocating ", bytes >> 20, " MiB (",
               free_bytes >> 20, " MiB free of ", total_bytes >> 20,
               " MiB); reduce loader.batch_size or the input size, or use trainer.precision=bf16");
  }
  LUMEN_CUDA_CHECK(status);
  impl_->ledger.on_allocate(ptr);
  return ptr;
}

void CudaContext::release(void* ptr) noexcept {
  if (!ptr) return;
  const CaptureLedger::Release what = impl_->ledger.on_release(ptr);
  if (what == CaptureLedger::Release::keep || what == CaptureLedger::Release::skip) return;
  cudaError_t status = cudaFreeAsync(ptr, impl_->stream);
  if (status != cudaSuccess && what == CaptureLedger::Release::free_in_capture) {
    // A capture that already failed is discarded together with the blocks it allocated.
    cudaGetLastError();
    return;
  }
  if (status != cudaSuccess) {
    std::fprintf(stderr, "lumen: cudaFreeAsync failed: %s\n", cudaGetErrorString(status));
  }
}

void CudaContext::begin_capture() {
  impl_->ledger.begin();
  cudaError_t status = cudaSetDevice(impl_->device);
  // Thread-local: other threads (data loading) may keep using CUDA while this one captures.
  if (status == cudaSuccess) {
    status = cudaStreamBeginCapture(impl_->stream, cudaStreamCaptureModeThreadLocal);
  }
  if (status != cudaSuccess) {
    impl_->ledger.end(true);
    LUMEN_CUDA_CHECK(status);
  }
}

void* CudaContext::end_capture(std::vector<void*>* retained) {
  cudaGraph_t graph = nullptr;
  const cudaError_t status = cudaStreamEndCapture(impl_->stream, &graph);
  CaptureLedger::Ended ended = impl_->ledger.end(status != cudaSuccess);
  *retained = std::move(ended.retained);
  if (status == cudaSuccess && ended.outliving == 0) {
    // The eager steps' cached blocks are idle from now on: a graph has memory of its own.
    cudaMemPoolTrimTo(impl_->pool, 0);
    return graph;
  }
  cudaGetLastError();  // capture errors are not sticky; clear the last one
  if (graph) cudaGraphDestroy(graph);
  release_retained(*retained);  // no graph will read them
  retained->clear();
  LUMEN_CHECK(status == cudaSuccess, "CUDA graph capture failed (", cudaGetErrorString(status),
              "): the captured code did something a graph cannot hold, such as a host sync "
              "(item(), a copy to the CPU), a copy from pageable host memory, or work on another "
              "stream");
  LUMEN_FAIL("CUDA graph capture failed: ", ended.outliving,
             " block(s) allocated during the capture are still in use after it; the captured "
             "code must not keep the tensors it creates (copy results into tensors made before "
             "the capture)");
}

void CudaContext::release_retained(const std::vector<void*>& retained) noexcept {
  for (void* ptr : retained) release(ptr);
}

}  // namespace lumen
