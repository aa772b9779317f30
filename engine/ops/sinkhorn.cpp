#include "engine/ops/sinkhorn.h"

#include <cmath>

#include "engine/autograd/tape.h"
#include "kernels/colstats.h"
#include "kernels/sinkhorn.h"

namespace lumen {

Tensor sinkhorn(const Tensor& logits, int iterations, double epsilon, Communicator* comm) {
  const char* op = "sinkhorn";
  check_defined(logits, op);
  LUMEN_CHECK(logits.ndim() == 2 && logits.size(0) > 0 && logits.size(1) > 0, op,
              " expects logits (rows, prototypes) with rows, prototypes > 0, got ", logits.str());
  LUMEN_CHECK(dtype_is_float(logits.dtype()), op, ": logits must be f32, f64, bf16 or f16, got ",
              logits.str());
  LUMEN_CHECK(iterations >= 1, op, ": iterations must be at least 1, got ", iterations,
              " (lightly's default is 3)");
  LUMEN_CHECK(std::isfinite(epsilon) && epsilon > 0, op, ": epsilon must be positive, got ",
              epsilon, " (lightly's default is 0.05)");
  NoGrad no_grad;
  const int64_t rows = logits.size(0), k = logits.size(1);
  const DType c = logits.dtype() == DType::f64 ? DType::f64 : DType::f32;
  const Tensor x = logits.dtype() == c ? logits.detach() : logits.to(c);
  const bool gather = comm && comm->world_size() > 1;
  Tensor shift = Tensor::empty_on({k}, c, x), colsum = Tensor::empty_on({k}, c, x);
  Tensor p = Tensor::empty_like(x);
  auto dispatch = [&](auto&& fn) {
    if (c == DType::f64) {
      fn(double{});
    } else {
      fn(float{});
    }
  };
  dispatch([&](auto tag) {
    using C = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::column_max_cuda(x.data<C>(), rows, k, shift.data<C>(), stream_of(x)));
    } else {
      kernels::column_max_cpu(x.data<C>(), rows, k, shift.data<C>());
    }
  });
  if (gather) comm->all_reduce(shift, ReduceOp::max);
  for (int it = 0; it < iterations; ++it) {
    dispatch([&](auto tag) {
      using C = decltype(tag);
      if (x.is_cuda()) {
        LUMEN_ON_CUDA({
          if (it == 0) {
            kernels::sinkhorn_exp_cuda(x.data<C>(), shift.data<C>(), epsilon, rows, k, p.data<C>(),
                                       colsum.data<C>(), stream_of(x));
          } else {
            kernels::column_sums_cuda(p.data<C>(), rows, k, colsum.data<C>(), stream_of(x));
          }
        });
      } else if (it == 0) {
        kernels::sinkhorn_exp_cpu(x.data<C>(), shift.data<C>(), epsilon, rows, k, p.data<C>(),
                                  colsum.data<C>());
      } else {
        kernels::column_sums_cpu(p.data<C>(), rows, k, colsum.data<C>());
      }
    });
    if (gather) comm->all_reduce(colsum, ReduceOp::sum);
    dispatch([&](auto tag) {
      using C = decltype(tag);
      if (x.is_cuda()) {
        LUMEN_ON_CUDA(
            kernels::sinkhorn_rows_cuda(p.data<C>(), colsum.data<C>(), rows, k, stream_of(x)));
      } else {
        kernels::sinkhorn_rows_cpu(p.data<C>(), colsum.data<C>(), rows, k);
      }
    });
  }
  return p;
}

}  // namespace lumen
