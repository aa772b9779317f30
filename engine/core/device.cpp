#include "engine/core/device.h"

namespace lumen {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "auto") return cuda_available() ? Device::cuda(0) : Device::cpu();
  if (text == "cuda" || text == "gpu") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string digits = text.substr(5);
    LUMEN_CHECK(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos,
                "device '", text, "' is not valid: use cpu, cuda, cuda:N or auto");
    return Device::cuda(std::stoi(digits));
  }
  LUMEN_FAIL("device '", text, "' is not valid: use cpu, cuda, cuda:N or auto");
}

bool cuda_available() { return cuda_device_count() > 0; }

void require_device(Device device) {
  if (device.is_cpu()) return;
  std::string reason;
  const int count = cuda_device_count(&reason);
  LUMEN_CHECK(count > 0, "device ", device.str(), " was requested but no CUDA device is usable (",
              reason, "); run with device=cpu, or on a machine with an NVIDIA GPU and driver");
  LUMEN_CHECK(device.index >= 0 && device.index < count, "device ", device.str(),
              " does not exist: this machine has ", count, " CUDA device(s)");
}

#if !defined(LUMEN_WITH_CUDA)
void cuda_profiler_start() {}
void cuda_profiler_stop() {}
int cuda_device_count(std::string* reason) {
  if (reason) *reason = "this Lumen was built without CUDA (LUMEN_CUDA=OFF)";
  return 0;
}
std::shared_ptr<CudaContext> CudaContext::default_for(int) {
  LUMEN_FAIL("CUDA context requested, but this Lumen was built without CUDA; use device=cpu");
}
std::shared_ptr<CudaContext> CudaContext::create(int device) { return default_for(device); }
// No context can exist in a CPU-only build (default_for throws); these only complete the class.
struct CudaContextImpl {};
CudaContext::~CudaContext() = default;
int CudaContext::device() const { return -1; }
cudaStream_t CudaContext::stream() const { return nullptr; }
void CudaContext::synchronize() const {}
void* CudaContext::cublas() { return default_for(0), nullptr; }
void* CudaContext::cublaslt() { return default_for(0), nullptr; }
void* CudaContext::cudnn() { return default_for(0), nullptr; }
void* CudaContext::allocate(size_t) { return default_for(0), nullptr; }
void CudaContext::release(void*) noexcept {}
void CudaContext::begin_capture() { default_for(0); }
void* CudaContext::end_capture(std::vector<void*>*) { return default_for(0), nullptr; }
void CudaContext::release_retained(const std::vector<void*>&) noexcept {}
#endif

}  // namespace lumen
