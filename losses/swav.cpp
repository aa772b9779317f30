#include "losses/swav.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "engine/ops/sinkhorn.h"
#include "losses/compute.h"
#include "losses/soft_targets.h"

namespace lumen {

SwaVLoss::SwaVLoss(SwaVOptions options, std::shared_ptr<Communicator> comm)
    : options_(options), comm_(comm ? std::move(comm) : single_process_communicator()) {
  LUMEN_CHECK(std::isfinite(options_.temperature) && options_.temperature != 0,
              "SwaVLoss: illegal temperature ", options_.temperature,
              ": it must be finite and non-zero (lightly's default is 0.1)");
  LUMEN_CHECK(options_.sinkhorn_iterations >= 1, "SwaVLoss: sinkhorn_iterations must be >= 1, got ",
              options_.sinkhorn_iterations, " (lightly's default is 3)");
  LUMEN_CHECK(std::isfinite(options_.sinkhorn_epsilon) && options_.sinkhorn_epsilon > 0,
              "SwaVLoss: sinkhorn_epsilon must be positive, got ", options_.sinkhorn_epsilon,
              " (lightly's default is 0.05)");
}

Tensor SwaVLoss::forward(const std::vector<Tensor>& high, const std::vector<Tensor>& low,
                         const std::vector<Tensor>& queue) const {
  const char* op = "SwaVLoss";
  LUMEN_CHECK(!high.empty(), op, " needs at least one high-resolution output");
  LUMEN_CHECK(high.size() + low.size() >= 2, op, " needs at least two crops (high and low ",
              "resolution together) to predict one crop's codes from another, got ", high.size());
  LUMEN_CHECK(queue.empty() || queue.size() == high.size(), op, ": ", queue.size(),
              " queue outputs for ", high.size(),
              " high-resolution outputs; give one per high-resolution crop, or none");
  const Tensor& first = high[0];
  check_defined(first, op);
  LUMEN_CHECK(first.ndim() == 2 && first.size(0) > 0 && first.size(1) > 0, op,
              " expects outputs of shape (batch, prototypes), got ", first.str());
  LUMEN_CHECK(dtype_is_float(first.dtype()), op, ": outputs must be f32, f64, bf16 or f16, got ",
              first.str());
  std::vector<Tensor> crops(high);
  crops.insert(crops.end(), low.begin(), low.end());
  for (const Tensor& t : crops) {
    check_defined(t, op);
    check_same_shape(t, first, op);
    check_same_dtype(t, first, op);
    check_same_device(t, first, op);
  }
  for (const Tensor& t : queue) {
    check_defined(t, op);
    LUMEN_CHECK(t.ndim() == 2 && t.size(1) == first.size(1), op,
                ": queue outputs must be (queue rows, ", first.size(1), "), got ", t.str());
    check_same_dtype(t, first, op);
    check_same_device(t, first, op);
  }
  const int64_t batch = first.size(0), k = first.size(1);
  const int h = int(high.size()), n_crops = int(crops.size());
  const DType c = losses::compute_dtype(first.dtype());
  Communicator* gather = options_.sinkhorn_gather_distributed ? comm_.get() : nullptr;
  // The codes of every high-resolution crop (h, batch, k), from its detached scores and its queue.
  Tensor codes = Tensor::empty_on({h, batch, k}, c, first);
  {
    NoGrad no_grad;
    for (int i = 0; i < h; ++i) {
      Tensor scores = losses::to_compute(high[i]);
      if (!queue.empty()) {
        const int64_t q = queue[i].size(0);
        Tensor joined = Tensor::empty_on({batch + q, k}, c, first);
        joined.rows(0, batch).copy_from(scores);
        if (q > 0) joined.rows(batch, q).copy_from(queue[i].detach());
        scores = joined;
      }
      Tensor q_i =
          sinkhorn(scores, options_.sinkhorn_iterations, options_.sinkhorn_epsilon, gather);
      codes.rows(i, 1).reshape({batch, k}).copy_from(q_i.rows(0, batch));
    }
  }
  // Crop v predicts the codes of every high-resolution crop but itself.
  std::vector<int> skips(n_crops, -1);
  for (int v = 0; v < h; ++v) skips[v] = v;
  const double weight = 1.0 / (double(h) * double(n_crops - 1) * double(batch));
  return losses::soft_target_cross_entropy("swav_loss", crops, codes, skips, weight,
                                           options_.temperature);
}

}  // namespace lumen
