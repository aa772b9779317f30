#include "layers/momentum.h"

#include "engine/train/momentum.h"

namespace lumen {

// The copies' parent: a module whose children are added from outside.
class MomentumCopy::Root : public Module {
 public:
  void adopt(const std::string& name, std::unique_ptr<Module> child) {
    add_child(name, std::move(child));
  }
  Tensor forward(const Tensor&) override {
    LUMEN_FAIL("MomentumCopy::root() is a container; call the copies returned by add()");
  }
};

MomentumCopy::MomentumCopy() : root_(std::make_unique<Root>()) {}
MomentumCopy::~MomentumCopy() = default;

Module& MomentumCopy::root() { return *root_; }

void MomentumCopy::add_module(const std::string& name, std::unique_ptr<Module> copy,
                              Module& online) {
  LUMEN_CHECK(!params_.finalized(), "MomentumCopy::add('", name, "') after finalize()");
  LUMEN_CHECK(copy != nullptr, "MomentumCopy::add('", name, "'): no module given");
  for (const auto& [existing, child] : root_->children()) {
    LUMEN_CHECK(existing != name, "MomentumCopy::add: '", name, "' added twice");
  }
  root_->adopt(name, std::move(copy));
  online_.push_back(&online);
}

void MomentumCopy::require_finalized(const char* what) const {
  LUMEN_CHECK(params_.finalized(), "MomentumCopy::", what, " before finalize()");
}

void MomentumCopy::finalize() {
  LUMEN_CHECK(!params_.finalized(), "MomentumCopy::finalize() called twice");
  // The online parameters in the copy's order: module by module as added.
  std::vector<std::pair<std::string, Tensor>> online;
  for (size_t i = 0; i < online_.size(); ++i) {
    const std::string& name = root_->children()[i].first;
    for (auto& entry : online_[i]->named_parameters(name + ".")) online.push_back(entry);
  }
  LUMEN_CHECK(!online.empty(), "MomentumCopy::finalize: the online modules have no parameters");
  for (const auto& [name, t] : online) {
    LUMEN_CHECK(t.defined(), "MomentumCopy::finalize: online parameter '", name,
                "' is not allocated; finalize the online model first");
  }
  const Tensor& first = online.front().second;
  lumen::finalize(*root_, params_, first.device(), 0, first.dtype(), /*requires_grad=*/false);
  const auto copies = root_->named_parameters();
  LUMEN_CHECK(copies.size() == online.size(), "MomentumCopy: the copies have ", copies.size(),
              " parameters but the online modules ", online.size(),
              "; build each copy exactly like its online module");
  // The online parameters must tile one range of one flat buffer exactly as the copy's buffer.
  const size_t base = first.impl()->byte_offset;
  const Tensor copy_values = params_.values();
  for (size_t k = 0; k < online.size(); ++k) {
    const auto& [name, t] = online[k];
    const Tensor& c = copies[k].second;
    LUMEN_CHECK(copies[k].first == name && t.shape() == c.shape() && t.dtype() == c.dtype(),
                "MomentumCopy: copy parameter '", copies[k].first, "' ", c.str(),
                " does not match online parameter '", name, "' ", t.str(),
                "; build each copy exactly like its online module");
    const size_t offset = c.impl()->byte_offset - copy_values.impl()->byte_offset;
    LUMEN_CHECK(t.storage() == first.storage() && t.impl()->byte_offset == base + offset,
                "MomentumCopy: online parameter '", name,
                "' does not follow the previous ones in the online ParameterBuffer; declare the "
                "modules that have a momentum copy first and consecutively in the online model, "
                "in the order they are added to the copy");
  }
  LUMEN_CHECK(base + copy_values.nbytes() <= first.storage()->bytes(),
              "MomentumCopy: the online parameters end before the copy's buffer does");
  online_values_ = Tensor::view_of(first.storage(), base, {copy_values.numel()}, first.dtype());
  copy_from_online();
  for (size_t i = 0; i < online_.size(); ++i) {
    root_->children()[i].second->train(online_[i]->training());  // deepcopy keeps the mode
  }
}

void MomentumCopy::copy_from_online() {
  require_finalized("copy_from_online()");
  params_.values().copy_from(online_values_);
  for (size_t i = 0; i < online_.size(); ++i) {
    auto online_buffers = online_[i]->named_buffers();
    auto copy_buffers = root_->children()[i].second->named_buffers();
    LUMEN_CHECK(online_buffers.size() == copy_buffers.size(), "MomentumCopy: '",
                root_->children()[i].first, "' has ", copy_buffers.size(),
                " buffers but its online module ", online_buffers.size());
    for (size_t k = 0; k < copy_buffers.size(); ++k) {
      copy_buffers[k].second.copy_from(online_buffers[k].second);
    }
  }
}

void MomentumCopy::update(double m) {
  require_finalized("update()");
  momentum_update(params_.values(), online_values_, m);
}

}  // namespace lumen
