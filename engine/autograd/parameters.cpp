#include "engine/autograd/parameters.h"

namespace lumen {

size_t ParameterBuffer::add(const std::string& name, const Shape& shape) {
  LUMEN_CHECK(!finalized(), "parameter '", name, "' added after finalize()");
  LUMEN_CHECK(!contains(name), "parameter '", name, "' declared twice");
  index_[name] = entries_.size();
  entries_.push_back(Entry{name, shape, 0, Tensor()});
  return entries_.size() - 1;
}

void ParameterBuffer::finalize(Device device, DType dtype, bool requires_grad) {
  LUMEN_CHECK(!finalized(), "ParameterBuffer::finalize() called twice");
  LUMEN_CHECK(dtype_is_float(dtype), "parameters must have a float dtype, not ", dtype_name(dtype));
  int64_t total = 0;
  for (Entry& e : entries_) {
    e.offset = total;
    const int64_t n = shape_numel(e.shape);
    total += (n + kAlignElements - 1) / kAlignElements * kAlignElements;
  }
  values_ = Tensor::zeros({total}, dtype, device);
  if (requires_grad) grads_ = Tensor::zeros({total}, dtype, device);
  const size_t elem = dtype_size(dtype);
  for (Entry& e : entries_) {
    e.value = Tensor::view_of(values_.storage(), size_t(e.offset) * elem, e.shape, dtype);
    if (!requires_grad) continue;
    e.value.set_requires_grad(true);
    e.value.set_grad(Tensor::view_of(grads_.storage(), size_t(e.offset) * elem, e.shape, dtype));
  }
}

Tensor& ParameterBuffer::operator[](size_t i) {
  LUMEN_CHECK(i < entries_.size(), "parameter index ", i, " out of range (", entries_.size(),
              " parameters)");
  LUMEN_CHECK(finalized(), "parameter '", entries_[i].name, "' used before finalize()");
  return entries_[i].value;
}

Tensor& ParameterBuffer::get(const std::string& name) {
  auto it = index_.find(name);
  LUMEN_CHECK(it != index_.end(), "no parameter named '", name, "'");
  return (*this)[it->second];
}

int64_t ParameterBuffer::parameter_count() const {
  int64_t n = 0;
  for (const Entry& e : entries_) n += shape_numel(e.shape);
  return n;
}

void ParameterBuffer::zero_grad() {
  if (grads_.defined()) grads_.zero();
}

}  // namespace lumen
