#include "layers/weights.h"

#include <array>
#include <set>
#include <vector>

#include "engine/io/safetensors.h"

namespace lumen {

namespace {

// Permutes a 4-D host tensor's dims: out[i0..i3] with out dim d taken from in dim perm[d].
Tensor permute4(const Tensor& t, const std::array<int, 4>& perm) {
  const Shape& in = t.shape();
  const Shape out_shape{in[perm[0]], in[perm[1]], in[perm[2]], in[perm[3]]};
  const std::vector<double> v = t.to_doubles();
  std::vector<double> out(v.size());
  const int64_t in_strides[4] = {in[1] * in[2] * in[3], in[2] * in[3], in[3], 1};
  int64_t o = 0;
  for (int64_t a = 0; a < out_shape[0]; ++a) {
    for (int64_t b = 0; b < out_shape[1]; ++b) {
      for (int64_t c = 0; c < out_shape[2]; ++c) {
        for (int64_t d = 0; d < out_shape[3]; ++d) {
          out[o++] = v[a * in_strides[perm[0]] + b * in_strides[perm[1]] + c * in_strides[perm[2]] +
                       d * in_strides[perm[3]]];
        }
      }
    }
  }
  return Tensor::from_vector(out, out_shape, t.dtype() == DType::f64 ? DType::f64 : DType::f32);
}

std::vector<std::pair<std::string, Tensor>> all_entries(Module& net) {
  std::vector<std::pair<std::string, Tensor>> entries = net.named_parameters();
  for (auto& b : net.named_buffers()) entries.push_back(b);
  return entries;
}

}  // namespace

Tensor ohwi_to_oihw(const Tensor& w) {
  LUMEN_CHECK(w.ndim() == 4, "ohwi_to_oihw: expects a 4-D weight, got ", w.str());
  return permute4(w, {0, 3, 1, 2});
}
Tensor oihw_to_ohwi(const Tensor& w) {
  LUMEN_CHECK(w.ndim() == 4, "oihw_to_ohwi: expects a 4-D weight, got ", w.str());
  return permute4(w, {0, 2, 3, 1});
}

Shape checkpoint_shape(const Tensor& live) {
  const Shape& s = live.shape();
  return s.size() == 4 ? Shape{s[0], s[3], s[1], s[2]} : s;
}

Tensor to_checkpoint_layout(const Tensor& live) {
  return live.ndim() == 4 ? ohwi_to_oihw(live.detach().to(Device::cpu())) : live;
}

void check_checkpoint_shape(const Tensor& live, const Tensor& saved, const std::string& name) {
  LUMEN_CHECK(saved.shape() == checkpoint_shape(live), "checkpoint tensor '", name, "' has shape ",
              shape_str(saved.shape()), " but the model expects ",
              shape_str(checkpoint_shape(live)), " (PyTorch layout)");
  LUMEN_CHECK(dtype_is_float(live.dtype()) == dtype_is_float(saved.dtype()), "checkpoint tensor '",
              name, "' is ", dtype_name(saved.dtype()), " but the model's is ",
              dtype_name(live.dtype()));
}

void copy_from_checkpoint(Tensor& live, const Tensor& saved, const std::string& name) {
  check_checkpoint_shape(live, saved, name);
  live.copy_from(saved.ndim() == 4 ? oihw_to_ohwi(saved) : saved);
}

std::map<std::string, Tensor> backbone_state_dict(Module& net) {
  std::map<std::string, Tensor> state;
  for (auto& [name, value] : all_entries(net)) {
    LUMEN_CHECK(value.defined(), "backbone_state_dict: '", name,
                "' is not allocated; call finalize(module, params, device, seed) first");
    state[name] = to_checkpoint_layout(value.detach().to(Device::cpu())).clone();
  }
  return state;
}

void load_backbone_state_dict(Module& net, const std::map<std::string, Tensor>& state,
                              const std::string& source) {
  std::set<std::string> expected;
  std::vector<std::string> missing, mismatched;
  auto entries = all_entries(net);
  for (auto& [name, value] : entries) {
    LUMEN_CHECK(value.defined(), "load_backbone: '", name,
                "' is not allocated; call finalize(module, params, device, seed) first");
    expected.insert(name);
    auto found = state.find(name);
    if (found == state.end()) {
      // PyTorch fills a missing num_batches_tracked (state dicts from before it existed) with 0.
      if (value.dtype() != DType::i64) missing.push_back(name);
    } else if (value.dtype() != DType::i64 && !dtype_is_float(found->second.dtype())) {
      mismatched.push_back(name + " (file has " + std::string(dtype_name(found->second.dtype())) +
                           ", a float tensor is expected)");
    } else if (found->second.shape() != checkpoint_shape(value)) {
      mismatched.push_back(name + " (file " + shape_str(found->second.shape()) + ", backbone " +
                           shape_str(checkpoint_shape(value)) + " in PyTorch layout)");
    }
  }
  std::vector<std::string> unknown;
  for (auto& [name, tensor] : state) {
    if (!expected.count(name) && name.rfind("fc.", 0) != 0) unknown.push_back(name);
  }
  auto join = [](const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 8) s += ", ... (" + std::to_string(names.size()) + " in all)";
    return s;
  };
  LUMEN_CHECK(missing.empty(), "load_backbone: ", source, " lacks ", join(missing),
              "; is it a checkpoint of this architecture (name and width)?");
  LUMEN_CHECK(mismatched.empty(), "load_backbone: tensors in ", source,
              " that do not fit: ", join(mismatched),
              "; check the architecture and width multiplier");
  LUMEN_CHECK(unknown.empty(), "load_backbone: ", source,
              " has keys the backbone does not: ", join(unknown),
              "; is it a checkpoint of this architecture?");
  // Everything was checked above: from here on nothing fails half-way through the copy.
  for (auto& [name, value] : entries) {
    auto found = state.find(name);
    if (value.dtype() == DType::i64) {  // num_batches_tracked: a host counter
      const std::vector<double> counts =
          found != state.end() ? found->second.to_doubles() : std::vector<double>(value.numel(), 0);
      for (int64_t i = 0; i < value.numel(); ++i) value.data<int64_t>()[i] = int64_t(counts[i]);
      continue;
    }
    copy_from_checkpoint(value, found->second, name);
  }
}

void save_backbone(Module& net, const std::string& path) {
  save_safetensors(path, backbone_state_dict(net), {{"format", "pt"}, {"layout", "torchvision"}});
}

void load_backbone(Module& net, const std::string& path) {
  const SafetensorsFile file = load_weights(path);
  load_backbone_state_dict(net, file.tensors, "'" + path + "'");
}

}  // namespace lumen
