#include "engine/ops/column_stats.h"

#include "engine/autograd/tape.h"
#include "kernels/colstats.h"

namespace lumen {

namespace {

DType compute_dtype(DType t) { return t == DType::f64 ? DType::f64 : DType::f32; }

struct ColumnStats {
  Tensor mean, var;  // (cols) in the compute dtype; var undefined when not asked for
};

ColumnStats column_stats(const Tensor& x, int correction, bool want_var, const char* op) {
  check_defined(x, op);
  LUMEN_CHECK(x.ndim() == 2, op, " expects (rows, cols), got ", x.str());
  LUMEN_CHECK(correction >= 0, op, ": correction must be >= 0, got ", correction);
  const int64_t rows = x.size(0), cols = x.size(1);
  ColumnStats s;
  s.mean = Tensor::empty_on({cols}, compute_dtype(x.dtype()), x);
  if (want_var) s.var = Tensor::empty_like(s.mean);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    C* var = want_var ? s.var.data<C>() : nullptr;
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::column_stats_cuda(x.data<T>(), rows, cols, correction,
                                               s.mean.data<C>(), var, stream_of(x)));
    } else {
      kernels::column_stats_cpu(x.data<T>(), rows, cols, correction, s.mean.data<C>(), var);
    }
  });
  return s;
}

// dx from the gradient of the mean or of the variance (the other undefined).
Tensor column_stats_backward(const Tensor& x, int correction, const Tensor& mean,
                             const Tensor& dmean, const Tensor& dvar) {
  const int64_t rows = x.size(0), cols = x.size(1);
  Tensor dx = Tensor::empty_like(x);
  dispatch_float(x.dtype(), "column stats backward", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const Tensor dm = dmean.defined() ? dmean.to(mean.dtype()) : Tensor();
    const Tensor dv = dvar.defined() ? dvar.to(mean.dtype()) : Tensor();
    const C* pm = dm.defined() ? dm.data<C>() : nullptr;
    const C* pv = dv.defined() ? dv.data<C>() : nullptr;
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::column_stats_backward_cuda(
          x.data<T>(), rows, cols, correction, mean.data<C>(), pm, pv, dx.data<T>(), stream_of(x)));
    } else {
      kernels::column_stats_backward_cpu(x.data<T>(), rows, cols, correction, mean.data<C>(), pm,
                                         pv, dx.data<T>());
    }
  });
  return dx;
}

}  // namespace

Tensor column_mean(const Tensor& x) {
  ColumnStats s = column_stats(x, 0, false, "column_mean");
  Tensor y = s.mean.dtype() == x.dtype() ? s.mean : s.mean.to(x.dtype());
  record_op("column_mean", y, {x},
            [x = x.detach(), mean = s.mean](const Tensor& dy, const std::vector<bool>&) {
              return std::vector<Tensor>{column_stats_backward(x, 0, mean, dy, Tensor())};
            });
  return y;
}

Tensor column_var(const Tensor& x, int correction) {
  ColumnStats s = column_stats(x, correction, true, "column_var");
  Tensor y = s.var.dtype() == x.dtype() ? s.var : s.var.to(x.dtype());
  record_op(
      "column_var", y, {x},
      [x = x.detach(), mean = s.mean, correction](const Tensor& dy, const std::vector<bool>&) {
        return std::vector<Tensor>{column_stats_backward(x, correction, mean, Tensor(), dy)};
      });
  return y;
}

}  // namespace lumen
