#include "losses/soft_targets.h"

#include "engine/autograd/tape.h"
#include "engine/ops/reduce.h"
#include "kernels/soft_targets.h"
#include "losses/compute.h"

namespace lumen::losses {

Tensor soft_target_cross_entropy(const char* name, const std::vector<Tensor>& views,
                                 const Tensor& targets, const std::vector<int>& skips,
                                 double weight, double temperature) {
  const int64_t batch = targets.size(1), k = targets.size(2);
  const int count = int(targets.size(0));
  const DType c = targets.dtype();
  Tensor row_loss = Tensor::empty_on({int64_t(views.size()) * batch}, c, targets);
  std::vector<Tensor> grads;
  for (size_t v = 0; v < views.size(); ++v) {
    const Tensor z = to_compute(views[v]);
    Tensor dz = Tensor::empty_like(z), rows = row_loss.rows(int64_t(v) * batch, batch);
    dispatch_compute(c, [&](auto tag) {
      using C = decltype(tag);
      if (z.is_cuda()) {
        LUMEN_ON_CUDA(kernels::soft_target_ce_rows_cuda(
            z.data<C>(), targets.data<C>(), count, skips[v], weight, temperature, batch, k,
            rows.data<C>(), dz.data<C>(), stream_of(z)));
      } else {
        kernels::soft_target_ce_rows_cpu(z.data<C>(), targets.data<C>(), count, skips[v], weight,
                                         temperature, batch, k, rows.data<C>(), dz.data<C>());
      }
    });
    grads.push_back(dz);
  }
  Tensor loss;
  {
    NoGrad no_grad;
    loss = sum(row_loss);
  }
  std::vector<DType> dtypes;
  for (const Tensor& v : views) dtypes.push_back(v.dtype());
  record_op(name, loss, views, [grads, dtypes](const Tensor& dy, const std::vector<bool>& needs) {
    std::vector<Tensor> out(grads.size());
    for (size_t v = 0; v < grads.size(); ++v) {
      if (needs[v]) out[v] = input_gradient(grads[v], dy, dtypes[v]);
    }
    return out;
  });
  return loss;
}

}  // namespace lumen::losses
