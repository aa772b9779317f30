#include "layers/methods/simclr.h"

namespace lumen {

SimCLR::SimCLR(const Backbone& backbone, const SimCLROptions& options,
               std::shared_ptr<Communicator> comm)
    : Method(backbone), options_(options), criterion_(options.loss, std::move(comm)) {
  const int64_t d = feature_dim();
  head_ = add_child(
      "projection_head",
      simclr_projection_head(d, options.hidden_dim > 0 ? options.hidden_dim : d, options.out_dim));
}

void SimCLR::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  // The bank exists from the start, so that state() holds it before a checkpoint is restored.
  if (options_.loss.memory_bank_size > 0) {
    criterion_.ensure_memory_bank(options_.out_dim, device, params.values().dtype());
  }
}

Tensor SimCLR::training_loss(const std::vector<Tensor>& views) {
  LUMEN_CHECK(views.size() == 2, "SimCLR trains on 2 views, got ", views.size());
  // One statement each: the order of the forwards is the order of batch norm's running updates.
  Tensor z0 = project(views[0]);
  Tensor z1 = project(views[1]);
  return criterion_(z0, z1);
}

NamedTensors SimCLR::extra_state() {
  NamedTensors out;
  for (auto& [name, t] : criterion_.state_tensors()) out.emplace_back("criterion." + name, t);
  return out;
}

std::string SimCLR::graph_blocker() const {
  return options_.loss.memory_bank_size > 0 ? "the memory bank's FIFO position is kept on the host"
                                            : "";
}

}  // namespace lumen
