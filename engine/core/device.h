// Devices and the CUDA context (stream, library handles, memory pool) that work on a GPU runs in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernels/common.h"

namespace lumen {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

// Parses "cpu", "cuda", "cuda:1"; "auto" means cuda:0 where a GPU is present, else cpu.
Device parse_device(const std::string& text);

// Number of usable CUDA devices. 0 in a CPU-only build and where the driver is missing or too old
// (cudaGetDeviceCount then fails; that is "no device", not an error). reason, when given, receives
// why there are none.
int cuda_device_count(std::string* reason = nullptr);
bool cuda_available();
// Brackets the region an external profiler records (`ncu --profile-from-start off`); no-ops
// without CUDA.
void cuda_profiler_start();
void cuda_profiler_stop();

// Throws a lumen::Error that says what to do when `device` is a CUDA device that is not usable.
void require_device(Device device);

struct CudaContextImpl;

// Everything GPU work needs on one device: a stream, cuBLAS/cuBLASLt/cuDNN handles (created on
// first use), and the stream-ordered memory pool tensors are allocated from. Each GPU tensor keeps
// a shared_ptr to its context; ops run on the context of their operands. Not copyable.
class CudaContext {
 public:
  // The process's default context for a device (created on first use).
  static std::shared_ptr<CudaContext> default_for(int device);
  // A new context with its own stream on `device`, e.g. one per serving thread.
  static std::shared_ptr<CudaContext> create(int device);

  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const;
  cudaStream_t stream() const;
  void synchronize() const;  // waits for all work queued on the stream; throws on async errors

  // Library handles, bound to this context's stream. Types are opaque here so that headers stay
  // free of CUDA includes; see engine/core/cuda_handles.h.
  void* cublas();
  void* cublaslt();
  void* cudnn();

  // Stream-ordered allocation from this device's memory pool.
  void* allocate(size_t bytes);
  void release(void* ptr) noexcept;

  // Graph capture of this context's stream, the primitives under CudaGraph
  // (engine/core/cuda_graph.h), which is what to use. Between the two calls the work queued on the
  // stream is recorded, not run; blocks allocated meanwhile belong to the graph and must be
  // released before end_capture; blocks allocated earlier and released meanwhile are not freed
  // (the graph may read them) but handed to end_capture's caller in `retained`, to free with
  // release_retained once the graph is gone. end_capture returns the graph (a cudaGraph_t) or
  // throws an Error naming what broke the capture, leaving the stream usable.
  void begin_capture();
  void* end_capture(std::vector<void*>* retained);
  void release_retained(const std::vector<void*>& retained) noexcept;

 private:
  explicit CudaContext(int device);
  std::unique_ptr<CudaContextImpl> impl_;
};

}  // namespace lumen
