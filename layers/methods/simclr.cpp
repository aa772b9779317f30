#include "layers/methods/simclr.h"

namespace lumen {

SimCLR::SimCLR(const Backbone& backbone, const SimCLROptions& options,
               std::shared_ptr<Communicator> comm)
    : PairedViewsMethod(
          "SimCLR", backbone,
          simclr_projection_head(backbone.feature_dim,
                                 options.hidden_dim > 0 ? options.hidden_dim : backbone.feature_dim,
                                 options.out_dim)),
      options_(options),
      criterion_(options.loss, std::move(comm)) {}

void SimCLR::setup(ParameterBuffer& params, Device device, uint64_t seed) {
  // The bank exists from the start, so that state() holds it before a checkpoint is restored.
  if (options_.loss.memory_bank_size > 0) {
    criterion_.ensure_memory_bank(options_.out_dim, device, params.values().dtype());
  }
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
