#include "layers/methods/barlow_twins.h"

namespace lumen {

namespace {
// The benchmark's heads.ProjectionHead([(D, hidden, BatchNorm1d, ReLU), (hidden, out, None,
// None)]): the first Linear without bias (batch norm follows), the last with one.
std::unique_ptr<ProjectionHead> two_layer_projection(int64_t input_dim, int64_t hidden_dim,
                                                     int64_t output_dim) {
  return std::make_unique<ProjectionHead>(std::vector<ProjectionBlock>{
      {input_dim, hidden_dim, true, true}, {hidden_dim, output_dim, false, false}});
}
}  // namespace

BarlowTwins::BarlowTwins(const Backbone& backbone, const BarlowTwinsMethodOptions& o,
                         std::shared_ptr<Communicator> comm)
    : PairedViewsMethod("Barlow Twins", backbone,
                        two_layer_projection(backbone.feature_dim, o.hidden_dim, o.out_dim)),
      criterion_(o.loss, std::move(comm)) {}

}  // namespace lumen
