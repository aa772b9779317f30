#include "losses/contrastive.h"

#include "engine/autograd/tape.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "engine/ops/reduce.h"
#include "kernels/norm.h"

namespace lumen::contrastive {

namespace {
constexpr double kNormalizeEps = 1e-12;  // F.normalize's default; applied in f32 or f64

// dx from the normalised rows y, their gradient dy and the saved norms (all C, (rows, dim)).
Tensor normalize_rows_backward(const Tensor& y, const Tensor& dy, const Tensor& norm) {
  const int64_t rows = y.size(0), dim = y.size(1);
  Tensor dx = Tensor::empty_like(dy);
  dispatch_compute(y.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (y.is_cuda()) {
      LUMEN_ON_CUDA(kernels::l2_normalize_backward_cuda(y.data<C>(), dy.data<C>(), norm.data<C>(),
                                                        dx.data<C>(), kNormalizeEps, rows, dim,
                                                        stream_of(y)));
    } else {
      kernels::l2_normalize_backward_cpu(y.data<C>(), dy.data<C>(), norm.data<C>(), dx.data<C>(),
                                         kNormalizeEps, rows, dim);
    }
  });
  return dx;
}
}  // namespace

void normalize_rows(const Tensor& x, Tensor& y, Tensor& norm) {
  const int64_t rows = x.size(0), dim = x.size(1);
  dispatch_compute(x.dtype(), [&](auto tag) {
    using C = decltype(tag);
    if (x.is_cuda()) {
      LUMEN_ON_CUDA(kernels::l2_normalize_forward_cuda(x.data<C>(), y.data<C>(), norm.data<C>(),
                                                       kNormalizeEps, rows, dim, stream_of(x)));
    } else {
      kernels::l2_normalize_forward_cpu(x.data<C>(), y.data<C>(), norm.data<C>(), kNormalizeEps,
                                        rows, dim);
    }
  });
}

NormalizedViews normalize_views(const Tensor& out0, const Tensor& out1) {
  const int64_t n = out0.size(0), dim = out0.size(1);
  const DType c = compute_dtype(out0.dtype());
  NormalizedViews v;
  v.z = Tensor::empty_on({2 * n, dim}, c, out0);
  v.norm = Tensor::empty_on({2 * n}, c, out0);
  Tensor x = Tensor::empty_on({2 * n, dim}, c, out0);
  x.rows(0, n).copy_from(out0.detach());
  x.rows(n, n).copy_from(out1.detach());
  normalize_rows(x, v.z, v.norm);
  return v;
}

std::vector<Tensor> view_gradients(const NormalizedViews& v, const Tensor& dz, const Tensor& dy,
                                   const Tensor& out0, const Tensor& out1) {
  const int64_t n = out0.size(0);
  Tensor dy_c = dy.dtype() == dz.dtype() ? dy : dy.to(dz.dtype());
  Tensor dx = normalize_rows_backward(v.z, scale_by_scalar(dz, dy_c), v.norm);
  return {dx.rows(0, n).to(out0.dtype()), dx.rows(n, n).to(out1.dtype())};
}

void check_outputs(const Tensor& out0, const Tensor& out1, const char* loss) {
  check_defined(out0, loss);
  check_defined(out1, loss);
  LUMEN_CHECK(out0.ndim() == 2 && out0.size(0) > 0 && out0.size(1) > 0, loss,
              " expects out0 of shape (batch, dim) with batch, dim > 0, got ", out0.str());
  check_same_shape(out0, out1, loss);
  check_same_device(out0, out1, loss);
  check_same_dtype(out0, out1, loss);
  LUMEN_CHECK(dtype_is_float(out0.dtype()), loss, ": outputs must be f32, f64, bf16 or f16, got ",
              out0.str());
}

PairSimilarities pair_similarities(const Tensor& out0, const Tensor& out1,
                                   std::shared_ptr<Communicator> gather_comm) {
  PairSimilarities p;
  p.v = normalize_views(out0, out1);
  p.comm = std::move(gather_comm);
  p.rank = p.comm ? p.comm->rank() : 0;
  p.columns = p.comm ? p.comm->all_gather(p.v.z) : p.v.z;  // (2n * world, dim)
  p.sim = Tensor::empty_on({p.v.z.size(0), p.columns.size(0)}, p.v.z.dtype(), p.v.z);
  gemm(p.v.z, p.columns, p.sim, false, true);
  return p;
}

Tensor record_pair_loss(const char* name, const PairSimilarities& p, const Tensor& row_loss,
                        const Tensor& out0, const Tensor& out1) {
  Tensor loss;
  {
    NoGrad no_grad;
    loss = mean(row_loss);
  }
  record_op(
      name, loss, {out0, out1},
      [p, out0 = out0.detach(), out1 = out1.detach()](const Tensor& dy, const std::vector<bool>&) {
        const int64_t rows = p.v.z.size(0);
        // d loss / d z_local = dS @ columns + (dS^T @ z_local, summed over ranks)[own rows]
        Tensor dz = Tensor::empty_like(p.v.z);
        gemm(p.sim, p.columns, dz, false, false);
        if (p.comm) {
          Tensor dcolumns = Tensor::empty_like(p.columns);
          gemm(p.sim, p.v.z, dcolumns, true, false);
          p.comm->all_reduce(dcolumns, ReduceOp::sum);
          add_inplace(dz, dcolumns.rows(int64_t(p.rank) * rows, rows));
        } else {
          gemm(p.sim, p.v.z, dz, true, false, 1.0, 1.0);
        }
        return view_gradients(p.v, dz, dy, out0, out1);
      });
  return loss;
}

}  // namespace lumen::contrastive
