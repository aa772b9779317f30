#include "engine/train/optimizer.h"

#include <cmath>
#include <cstring>

#include "kernels/optim.h"

namespace lumen {

// Copies the step's scalars to the device without waiting (optimizer_cuda.cpp).
void upload_optimizer_scalars(const Tensor& dst, const kernels::OptimizerHyper& scalars);

bool decay_all(const std::string&, const Tensor&) { return true; }

bool no_decay_for_bias_and_norm(const std::string& name, const Tensor& param) {
  const std::string bias = ".bias";
  const bool is_bias =
      name == "bias" || (name.size() >= bias.size() &&
                         name.compare(name.size() - bias.size(), bias.size(), bias) == 0);
  return !is_bias && param.ndim() > 1;
}

namespace {

// A host table as raw bytes on `device_of`'s device.
template <typename T>
Tensor device_table(const std::vector<T>& rows, const Tensor& device_of) {
  Tensor host = Tensor::empty({int64_t(rows.size() * sizeof(T))}, DType::u8);
  if (!rows.empty()) std::memcpy(host.raw_data(), rows.data(), rows.size() * sizeof(T));
  Tensor out = Tensor::empty_on(host.shape(), DType::u8, device_of);
  out.copy_from(host);
  return out;
}

}  // namespace

void Optimizer::upload_segments() {
  const size_t bytes = segments_.size() * sizeof(kernels::OptimizerSegment);
  Tensor host = Tensor::empty({int64_t(bytes)}, DType::u8);
  if (bytes) std::memcpy(host.raw_data(), segments_.data(), bytes);
  segment_table_.copy_from(host);
}

void Optimizer::set_lr_scales(const ParameterScale& scale) {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const double s = scale ? scale(params_.name(i), params_[i]) : 1.0;
    LUMEN_CHECK(std::isfinite(s) && s >= 0, name_, ": the learning-rate scale of '",
                params_.name(i), "' must be finite and >= 0, got ", s);
    segments_[i].lr_scale = s;
  }
  upload_segments();
}

void Optimizer::set_frozen(const std::function<bool(const std::string& name)>& frozen) {
  bool changed = false;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const int32_t f = frozen && frozen(params_.name(i)) ? 1 : 0;
    changed |= segments_[i].frozen != f;
    segments_[i].frozen = f;
  }
  if (changed) upload_segments();
}

Optimizer::Optimizer(ParameterBuffer& params, const char* name, double lr, double weight_decay,
                     const WeightDecayRule& decays, std::vector<std::string> state_names)
    : params_(params), name_(name), lr_(lr), state_names_(std::move(state_names)) {
  LUMEN_CHECK(params.finalized(), name,
              ": the ParameterBuffer must be finalized (finalize(device, "
              "dtype)) before an optimizer is built on it");
  const Tensor values = params.values();
  LUMEN_CHECK(values.dtype() == DType::f32 || values.dtype() == DType::f64, name,
              ": parameters must be f32 or f64 master weights, got ", dtype_name(values.dtype()));
  LUMEN_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, name,
              ": weight_decay must be >= 0, got ", weight_decay);
  set_lr(lr);
  step_count_ = Tensor::zeros({1}, DType::i64);
  const size_t elem = dtype_size(values.dtype());
  const auto* base = static_cast<const char*>(values.raw_data());
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    kernels::OptimizerSegment seg;
    seg.offset = int64_t((static_cast<const char*>(p.raw_data()) - base) / elem);
    seg.count = p.numel();
    seg.weight_decay = (decays ? decays(params.name(i), p) : true) ? weight_decay : 0.0;
    seg.first_chunk = int64_t(chunks_.size());
    for (int64_t begin = 0; begin < seg.count; begin += kernels::kOptimizerChunk) {
      const int64_t end = std::min(seg.count, begin + kernels::kOptimizerChunk);
      chunks_.push_back({int64_t(i), seg.offset + begin, seg.offset + end});
    }
    seg.num_chunks = int64_t(chunks_.size()) - seg.first_chunk;
    segments_.push_back(seg);
  }
  segment_table_ = device_table(segments_, values);
  chunk_table_ = device_table(chunks_, values);
  segment_work_ = Tensor::empty_on({int64_t(2 * std::max<size_t>(segments_.size(), 1))},
                                   values.dtype(), values);
  chunk_work_ =
      Tensor::empty_on({int64_t(2 * std::max<size_t>(chunks_.size(), 1))}, values.dtype(), values);
  scalars_ = Tensor::empty_on({int64_t(sizeof(kernels::OptimizerHyper))}, DType::u8, values);
  for (size_t k = 0; k < state_names_.size(); ++k) {
    Tensor s = Tensor::empty_like(values);
    s.zero();
    state_.push_back(s);
  }
}

void Optimizer::set_lr(double lr) {
  LUMEN_CHECK(std::isfinite(lr) && lr >= 0, name_, ": learning rate must be finite and >= 0, got ",
              lr);
  lr_ = lr;
}

void Optimizer::step() {
  prepare_step();
  launch_update();
}

void Optimizer::prepare_step() {
  staged_ = hyper();
  staged_.lr = lr_;
  staged_.first_step = steps_taken() == 0;
  if (scalars_.is_cuda()) {
    LUMEN_ON_CUDA(upload_optimizer_scalars(scalars_, staged_));
  } else {
    std::memcpy(scalars_.raw_data(), &staged_, sizeof(staged_));
  }
  step_count_.data<int64_t>()[0] += 1;
}

void Optimizer::launch_update() {
  LUMEN_CHECK(steps_taken() > 0, name_, ": launch_update() before prepare_step(); call step()");
  Tensor values = params_.values(), grads = params_.gradients();
  const auto* segments = static_cast<const kernels::OptimizerSegment*>(segment_table_.raw_data());
  const auto* chunks = static_cast<const kernels::OptimizerChunk*>(chunk_table_.raw_data());
  const auto* scalars = static_cast<const kernels::OptimizerHyper*>(scalars_.raw_data());
  const int64_t num_segments = int64_t(segments_.size()), num_chunks = int64_t(chunks_.size());
  dispatch_float(values.dtype(), name_, [&](auto tag) {
    using C = decltype(tag);
    if constexpr (std::is_same_v<C, float> || std::is_same_v<C, double>) {
      C* s0 = state_.size() > 0 ? state_[0].data<C>() : nullptr;
      C* s1 = state_.size() > 1 ? state_[1].data<C>() : nullptr;
      if (values.is_cuda()) {
        LUMEN_ON_CUDA(kernels::optimizer_step_cuda(values.data<C>(), grads.data<C>(), s0, s1,
                                                   segments, num_segments, chunks, num_chunks,
                                                   segment_work_.data<C>(), chunk_work_.data<C>(),
                                                   staged_.kind, scalars, stream_of(values)));
      } else {
        kernels::optimizer_step_cpu(values.data<C>(), grads.data<C>(), s0, s1, segments,
                                    num_segments, chunks, num_chunks, segment_work_.data<C>(),
                                    chunk_work_.data<C>(), scalars);
      }
    } else {
      LUMEN_FAIL(name_, ": parameters must be f32 or f64");
    }
  });
}

std::map<std::string, Tensor> Optimizer::state_tensors() const {
  std::map<std::string, Tensor> out;
  out["step"] = step_count_;
  for (size_t k = 0; k < state_.size(); ++k) out[state_names_[k]] = state_[k];
  return out;
}

void Optimizer::load_state_tensors(const std::map<std::string, Tensor>& state) {
  auto step = state.find("step");
  LUMEN_CHECK(step != state.end() && step->second.numel() == 1, name_,
              ": optimizer state has no \"step\" entry; was it saved by a ", name_,
              " optimizer's state_tensors()?");
  for (size_t k = 0; k < state_.size(); ++k) {
    auto found = state.find(state_names_[k]);
    LUMEN_CHECK(
        found != state.end(), name_, ": optimizer state lacks \"", state_names_[k],
        "\"; it was saved by a different optimizer (use the same optimizer.name to resume)");
    LUMEN_CHECK(found->second.numel() == state_[k].numel(), name_, ": optimizer state \"",
                state_names_[k], "\" is ", found->second.str(), " but the parameters need ",
                state_[k].str(), "; the model changed since the checkpoint was written");
  }
  const double steps = step->second.item();
  LUMEN_CHECK(steps >= 0 && steps == std::floor(steps), name_, ": bad step count ", steps);
  for (size_t k = 0; k < state_.size(); ++k) state_[k].copy_from(state.at(state_names_[k]));
  step_count_.data<int64_t>()[0] = int64_t(steps);
}

}  // namespace lumen
