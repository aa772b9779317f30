#include "engine/core/tensor.h"

#include <sstream>

#include "engine/autograd/tape.h"
#include "kernels/fill.h"

namespace lumen {

cudaStream_t stream_of(const Tensor& t) { return t.context() ? t.context()->stream() : nullptr; }

std::string shape_str(const Shape& shape) {
  std::ostringstream out;
  out << "(";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) out << ",";
  out << ")";
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    LUMEN_CHECK(d >= 0, "shape ", shape_str(shape), " has a negative dimension");
    n *= d;
  }
  return n;
}

// ---- creation ----------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  require_device(device);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::empty_on(const Shape& shape, DType dtype, const Tensor& device_of) {
  check_defined(device_of, "empty_on");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(size_t(shape_numel(shape)) * dtype_size(dtype),
                                    device_of.device(), device_of.storage()->context());
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::empty_like(const Tensor& like) { return empty_on(like.shape(), like.dtype(), like); }

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, DType dtype,
                           Device device) {
  LUMEN_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
              " values do not fill shape ", shape_str(shape));
  Tensor host = empty(shape, DType::f32, Device::cpu());
  std::copy(values.begin(), values.end(), host.data<float>());
  return host.to(dtype).to(device);
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype,
                           Device device) {
  LUMEN_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
              " values do not fill shape ", shape_str(shape));
  Tensor host = empty(shape, DType::f64, Device::cpu());
  std::copy(values.begin(), values.end(), host.data<double>());
  return host.to(dtype).to(device);
}

Tensor Tensor::uniform(const Shape& shape, uint64_t seed, double low, double high, DType dtype,
                       Device device) {
  Tensor t = empty(shape, dtype, device);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    if (t.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::fill_uniform_cuda(t.data<T>(), t.numel(), seed, low, high, stream_of(t)));
    } else {
      kernels::fill_uniform_cpu(t.data<T>(), t.numel(), seed, low, high);
    }
  });
  return t;
}

Tensor Tensor::normal(const Shape& shape, uint64_t seed, double mean, double stddev, DType dtype,
                      Device device) {
  LUMEN_CHECK(dtype_is_float(dtype), "normal: dtype ", dtype_name(dtype), " is not a float type");
  Tensor t = empty(shape, dtype, device);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    if (t.is_cuda()) {
      LUMEN_ON_CUDA(
          kernels::fill_normal_cuda(t.data<T>(), t.numel(), seed, mean, stddev, stream_of(t)));
    } else {
      kernels::fill_normal_cpu(t.data<T>(), t.numel(), seed, mean, stddev);
    }
  });
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, size_t byte_offset, const Shape& shape,
                       DType dtype) {
  LUMEN_CHECK(byte_offset + size_t(shape_numel(shape)) * dtype_size(dtype) <= storage->bytes(),
              "view of shape ", shape_str(shape), " at byte ", byte_offset,
              " runs past its storage of ", storage->bytes(), " bytes");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->byte_offset = byte_offset;
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

// ---- description -------------------------------------------------------------------------------

const Shape& Tensor::shape() const {
  check_defined(*this, "shape");
  return impl_->shape;
}
int64_t Tensor::size(int dim) const {
  const int n = ndim();
  const int d = dim < 0 ? dim + n : dim;
  LUMEN_CHECK(d >= 0 && d < n, "dimension ", dim, " is out of range for tensor ", str());
  return impl_->shape[d];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
DType Tensor::dtype() const {
  check_defined(*this, "dtype");
  return impl_->dtype;
}
Device Tensor::device() const {
  check_defined(*this, "device");
  return impl_->storage->device();
}
CudaContext* Tensor::context() const {
  check_defined(*this, "context");
  return impl_->storage->context().get();
}
const std::shared_ptr<Storage>& Tensor::storage() const {
  check_defined(*this, "storage");
  return impl_->storage;
}
std::string Tensor::str() const {
  if (!defined()) return "(undefined tensor)";
  return shape_str(impl_->shape) + " " + dtype_name(impl_->dtype) + " " + device().str();
}
void* Tensor::raw_data() const {
  check_defined(*this, "data");
  return static_cast<char*>(impl_->storage->data()) + impl_->byte_offset;
}

std::vector<double> Tensor::to_doubles() const {
  Tensor host = to(Device::cpu()).to(DType::f64);
  const double* p = host.data<double>();
  return std::vector<double>(p, p + host.numel());
}
std::vector<float> Tensor::to_floats() const {
  Tensor host = to(Device::cpu()).to(DType::f32);
  const float* p = host.data<float>();
  return std::vector<float>(p, p + host.numel());
}
double Tensor::item() const {
  LUMEN_CHECK(numel() == 1, "item() needs a one-element tensor, got ", str());
  return to_doubles()[0];
}

// ---- conversions and views ---------------------------------------------------------------------

Tensor Tensor::to(Device device) const {
  check_defined(*this, "to");
  if (device == this->device()) return *this;
  Tensor out = empty(shape(), dtype(), device);
  CudaContext* ctx = out.context() ? out.context() : context();
  copy_bytes(out.raw_data(), device, raw_data(), this->device(), nbytes(), ctx);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  check_defined(*this, "to");
  if (dtype == this->dtype()) return *this;
  Tensor out = empty_on(shape(), dtype, *this);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty_like(*this);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  check_defined(*this, "reshape");
  Shape resolved = new_shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      LUMEN_CHECK(infer < 0, "reshape to ", shape_str(new_shape), ": only one -1 allowed");
      infer = int(i);
    } else {
      known *= resolved[i];
    }
  }
  if (infer >= 0 && known > 0) resolved[infer] = numel() / known;
  LUMEN_CHECK(shape_numel(resolved) == numel(), "cannot reshape tensor ", str(), " to ",
              shape_str(new_shape));
  Tensor out = view_of(impl_->storage, impl_->byte_offset, resolved, dtype());
  const Shape old_shape = shape();
  record_op("reshape", out, {*this}, [old_shape](const Tensor& dy, const std::vector<bool>&) {
    return std::vector<Tensor>{dy.reshape(old_shape)};
  });
  return out;
}

Tensor Tensor::rows(int64_t start, int64_t count) const {
  LUMEN_CHECK(ndim() >= 1 && start >= 0 && count >= 0 && start + count <= size(0), "rows(", start,
              ", ", count, ") is out of range for tensor ", str());
  LUMEN_CHECK(!(requires_grad() && grad_mode_enabled()),
              "rows() of a tensor that requires grad is not differentiable; detach() it first");
  Shape s = shape();
  const size_t row_bytes = nbytes() / size_t(std::max<int64_t>(s[0], 1));
  s[0] = count;
  return view_of(impl_->storage, impl_->byte_offset + size_t(start) * row_bytes, s, dtype());
}

void Tensor::copy_from(const Tensor& src) {
  check_defined(*this, "copy_from");
  check_defined(src, "copy_from");
  LUMEN_CHECK(src.numel() == numel(), "copy_from: source ", src.str(), " does not match ", str());
  Tensor source = src;
  if (src.device() != device()) {
    // Move the bytes first (in the source dtype), then convert on this tensor's device.
    Tensor moved = empty_on(src.shape(), src.dtype(), *this);
    CudaContext* ctx = context() ? context() : src.context();
    copy_bytes(moved.raw_data(), device(), src.raw_data(), src.device(), src.nbytes(), ctx);
    source = moved;
  }
  if (source.dtype() == dtype()) {
    copy_bytes(raw_data(), device(), source.raw_data(), device(), nbytes(), context());
    return;
  }
  dispatch_all(dtype(), [&](auto to_tag) {
    using To = decltype(to_tag);
    dispatch_all(source.dtype(), [&](auto from_tag) {
      using From = decltype(from_tag);
      if (is_cuda()) {
        LUMEN_ON_CUDA(kernels::cast_cuda<To, From>(source.data<From>(), data<To>(), numel(),
                                                   stream_of(*this)));
      } else {
        kernels::cast_cpu<To, From>(source.data<From>(), data<To>(), numel());
      }
    });
  });
}

void Tensor::fill(double value) {
  dispatch_all(dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (is_cuda()) {
      LUMEN_ON_CUDA(kernels::fill_value_cuda(data<T>(), numel(), value, stream_of(*this)));
    } else {
      kernels::fill_value_cpu(data<T>(), numel(), value);
    }
  });
}

// ---- autograd ----------------------------------------------------------------------------------

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::set_requires_grad(bool on) {
  check_defined(*this, "set_requires_grad");
  LUMEN_CHECK(!on || dtype_is_float(dtype()), "tensor ", str(),
              " cannot require grad: only float tensors can");
  impl_->requires_grad = on;
  return *this;
}
bool Tensor::is_leaf() const { return !impl_ || impl_->is_leaf; }
void Tensor::mark_non_leaf() {
  impl_->is_leaf = false;
  impl_->requires_grad = true;
}
Tensor Tensor::grad() const {
  check_defined(*this, "grad");
  return impl_->grad;
}
void Tensor::set_grad(const Tensor& grad) {
  check_defined(*this, "set_grad");
  if (grad.defined()) {
    LUMEN_CHECK(grad.shape() == shape() && grad.dtype() == dtype() && grad.device() == device(),
                "gradient ", grad.str(), " does not match tensor ", str());
  }
  impl_->grad = grad;
}
Tensor Tensor::detach() const {
  check_defined(*this, "detach");
  return view_of(impl_->storage, impl_->byte_offset, impl_->shape, impl_->dtype);
}
void Tensor::backward() const { run_backward(*this); }

// ---- checks ------------------------------------------------------------------------------------

void check_defined(const Tensor& t, const char* op) {
  LUMEN_CHECK(t.defined(), op, ": tensor is undefined");
}
void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  LUMEN_CHECK(a.device() == b.device(), op, ": operands are on different devices: ", a.str(),
              " and ", b.str(), "; move one with .to(device)");
  LUMEN_CHECK(a.context() == b.context(), op,
              ": CUDA operands belong to different contexts (streams)");
}
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  LUMEN_CHECK(a.dtype() == b.dtype(), op, ": operands have different dtypes: ", a.str(), " and ",
              b.str(), "; convert one with .to(dtype)");
}
void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  LUMEN_CHECK(a.shape() == b.shape(), op, ": operands have different shapes: ", a.str(), " and ",
              b.str());
}

}  // namespace lumen
