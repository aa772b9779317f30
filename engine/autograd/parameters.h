// Parameters live in one flat buffer and their gradients in another, each carved into tensors, so
// one fused kernel can update every parameter and one all-reduce can move every gradient.
//
//   ParameterBuffer params;
//   Tensor w = params.add("fc.weight", {out, in});   // an undefined handle until finalize()
//   params.finalize(Device::cuda(0), DType::f32);
//   params.get("fc.weight")                         // (out, in) view into params.values()
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

class ParameterBuffer {
 public:
  // Each parameter starts at a multiple of kAlignElements elements (vectorised access).
  static constexpr int64_t kAlignElements = 64;

  // Declares a parameter; names must be unique. Returns its index.
  size_t add(const std::string& name, const Shape& shape);
  // Allocates both flat buffers (gradients zeroed) and makes every parameter a view that requires
  // grad, with its .grad a view into the gradient buffer. requires_grad = false: the value buffer
  // only, parameters that do not require grad and gradients() undefined (a momentum copy's).
  void finalize(Device device, DType dtype = DType::f32, bool requires_grad = true);
  bool finalized() const { return values_.defined(); }

  size_t size() const { return entries_.size(); }
  const std::string& name(size_t i) const { return entries_.at(i).name; }
  // Where parameter i starts in the flat buffers (elements; finalized).
  int64_t offset(size_t i) const { return entries_.at(i).offset; }
  Tensor& operator[](size_t i);
  Tensor& get(const std::string& name);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }

  Tensor values() const { return values_; }    // (total,) flat, padding included (kept 0)
  Tensor gradients() const { return grads_; }  // (total,); undefined without requires_grad
  int64_t parameter_count() const;             // without padding
  void zero_grad();

 private:
  struct Entry {
    std::string name;
    Shape shape;
    int64_t offset = 0;  // in elements
    Tensor value;
  };
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
  Tensor values_, grads_;
};

}  // namespace lumen
