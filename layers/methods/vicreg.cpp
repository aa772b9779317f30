#include "layers/methods/vicreg.h"

namespace lumen {

VICReg::VICReg(const Backbone& backbone, const VICRegMethodOptions& o,
               std::shared_ptr<Communicator> comm)
    : PairedViewsMethod(
          "VICReg", backbone,
          vicreg_projection_head(backbone.feature_dim, o.hidden_dim, o.out_dim, o.num_layers)),
      criterion_(o.loss, std::move(comm)) {}

}  // namespace lumen
