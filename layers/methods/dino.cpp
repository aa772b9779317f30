#include "layers/methods/dino.h"

#include "engine/autograd/tape.h"

namespace lumen {

namespace {
DINOOptions loss_options(const DINOMethodOptions& o) {
  DINOOptions loss = o.loss;
  loss.output_dim = o.out_dim;
  return loss;
}
}  // namespace

DINO::DINO(const Backbone& backbone, const DINOMethodOptions& o, std::shared_ptr<Communicator> comm)
    : Method(backbone), options_(o), criterion_(loss_options(o), std::move(comm)) {
  LUMEN_CHECK(o.n_global_views >= 1, "DINO's teacher needs at least one global view, got ",
              o.n_global_views);
  DINOProjectionHeadOptions h =
      dino_cifar10_head_options(feature_dim(), o.hidden_dim, o.bottleneck_dim, o.out_dim);
  h.freeze_last_layer = o.freeze_last_layer;
  head_ = add_child("head", std::make_unique<DINOProjectionHead>(h));
  teacher_backbone_ = teacher_.add("teacher_backbone", backbone.make(), this->backbone());
  teacher_head_ = teacher_.add("teacher_head", std::make_unique<DINOProjectionHead>(h), *head_);
}

void DINO::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  teacher_.finalize();
  criterion_.ensure_center(device, params.values().dtype());
}

void DINO::prepare_step(const MethodStep& step) {
  momentum_ = options_.momentum.at(step);
  epoch_ = step.epoch;
}

Tensor DINO::training_loss(const std::vector<Tensor>& views) {
  const size_t n_global = size_t(options_.n_global_views);
  LUMEN_CHECK(views.size() >= n_global, "DINO's teacher sees ", n_global,
              " global views, got only ", views.size(), " views");
  std::vector<Tensor> teacher_out, student_out;
  {
    NoGrad no_grad;
    for (size_t i = 0; i < n_global; ++i) {
      teacher_out.push_back((*teacher_head_)((*teacher_backbone_)(views[i])));
    }
  }
  for (const Tensor& v : views) student_out.push_back((*head_)(forward(v)));
  return criterion_(teacher_out, student_out, epoch_);
}

std::vector<std::string> DINO::frozen_parameters(const MethodStep& step) {
  if (!head_->last_layer_frozen(step.epoch)) return {};
  std::vector<std::string> names;
  for (const std::string& n : head_->last_layer_parameter_names()) names.push_back("head." + n);
  return names;
}

NamedTensors DINO::extra_state() {
  NamedTensors out;
  for (auto& [name, t] : criterion_.state_tensors()) out.emplace_back("criterion." + name, t);
  return out;
}

std::string DINO::graph_blocker() const {
  if (options_.momentum.cosine) {
    return "method.momentum_schedule=cosine changes the momentum every step, and the update takes "
           "it from the host";
  }
  const DINOOptions& l = options_.loss;
  if (l.warmup_teacher_temp_epochs > 0 && l.warmup_teacher_temp != l.teacher_temp) {
    return "the teacher temperature's warm-up changes it by epoch, and the loss takes it from the "
           "host";
  }
  return "";
}

}  // namespace lumen
