// Tensor: a contiguous, row-major array of one dtype on one device, sharing its storage with its
// views. Copying a Tensor copies the handle, not the data (like torch.Tensor).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/storage.h"

namespace lumen {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);

class Tensor;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor; defined() is false

  // ---- creation ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  // Allocates on the device of `like` and, for CUDA, in its context.
  static Tensor empty_like(const Tensor& like);
  static Tensor empty_on(const Shape& shape, DType dtype, const Tensor& device_of);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu());
  // Copies host values (converted to dtype) onto device.
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            DType dtype = DType::f64, Device device = Device::cpu());
  // Counter-based random fills: element i depends only on (seed, i), on every device.
  static Tensor uniform(const Shape& shape, uint64_t seed, double low = 0, double high = 1,
                        DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor normal(const Shape& shape, uint64_t seed, double mean = 0, double stddev = 1,
                       DType dtype = DType::f32, Device device = Device::cpu());
  // A view of `storage` starting at `byte_offset` (used to carve flat parameter buffers).
  static Tensor view_of(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                        DType dtype);

  // ---- description ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return int(shape().size()); }
  int64_t size(int dim) const;  // negative dims count from the end
  int64_t numel() const;
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }
  DType dtype() const;
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  CudaContext* context() const;  // null for CPU tensors
  const std::shared_ptr<Storage>& storage() const;
  std::string str() const;  // "(2, 3) f32 cpu", for messages

  // ---- data ----
  void* raw_data() const;
  template <typename T>
  T* data() const {
    LUMEN_CHECK(DTypeOf<T>::value == dtype(), "tensor ", str(), " accessed as ",
                dtype_name(DTypeOf<T>::value));
    return static_cast<T*>(raw_data());
  }
  // Host copy of the values converted to double / float (synchronizes with the GPU).
  std::vector<double> to_doubles() const;
  std::vector<float> to_floats() const;
  double item() const;  // the single value of a one-element tensor

  // ---- conversions and views ----
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;
  Tensor reshape(const Shape& shape) const;         // view; records a node when grads flow
  Tensor rows(int64_t start, int64_t count) const;  // view of rows [start, start+count) of dim 0
  void copy_from(const Tensor& src);                // same shape; converts dtype and device
  void fill(double value);
  void zero() { fill(0); }

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);
  bool is_leaf() const;  // not produced by a recorded op
  Tensor grad() const;   // undefined until a backward pass reaches this leaf
  void set_grad(const Tensor& grad);
  Tensor detach() const;  // same storage, no autograd history
  void backward() const;  // this must be a one-element tensor; see engine/autograd/tape.h

  // identity, used by the tape
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  void mark_non_leaf();

 private:
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t byte_offset = 0;
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  bool is_leaf = true;
  Tensor grad;
};

// The stream that work on `t` runs on (null for CPU tensors).
cudaStream_t stream_of(const Tensor& t);

// Argument checks shared by ops: messages name the op and both tensors.
void check_defined(const Tensor& t, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);

}  // namespace lumen
