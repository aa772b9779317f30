#include "engine/ops/nearest.h"

#include "engine/ops/gemm.h"
#include "kernels/argmax.h"
#include "kernels/norm.h"

namespace lumen {

namespace {

constexpr double kNormalizeEps = 1e-12;  // F.normalize's default

// x (rows, dim) of any float dtype -> normalised rows in the compute dtype C.
template <typename C>
Tensor normalized(const Tensor& x, DType c) {
  const int64_t rows = x.size(0), dim = x.size(1);
  Tensor xc = x.dtype() == c ? x.detach() : x.detach().to(c);
  Tensor y = Tensor::empty_on({rows, dim}, c, x), norm = Tensor::empty_on({rows}, c, x);
  if (x.is_cuda()) {
    LUMEN_ON_CUDA(kernels::l2_normalize_forward_cuda(xc.data<C>(), y.data<C>(), norm.data<C>(),
                                                     kNormalizeEps, rows, dim, stream_of(x)));
  } else {
    kernels::l2_normalize_forward_cpu(xc.data<C>(), y.data<C>(), norm.data<C>(), kNormalizeEps,
                                      rows, dim);
  }
  return y;
}

template <typename C>
Tensor nearest(const Tensor& queries, const Tensor& keys, DType c) {
  const Tensor q = normalized<C>(queries, c), k = normalized<C>(keys, c);
  Tensor sim = Tensor::empty_on({q.size(0), k.size(0)}, c, q);
  gemm(q, k, sim, false, true);
  Tensor index = Tensor::empty_on({q.size(0)}, DType::i64, q);
  if (sim.is_cuda()) {
    LUMEN_ON_CUDA(kernels::row_argmax_cuda(sim.data<C>(), sim.size(0), sim.size(1),
                                           index.data<int64_t>(), stream_of(sim)));
  } else {
    kernels::row_argmax_cpu(sim.data<C>(), sim.size(0), sim.size(1), index.data<int64_t>());
  }
  return index;
}

}  // namespace

Tensor cosine_nearest_rows(const Tensor& queries, const Tensor& keys) {
  const char* op = "cosine_nearest_rows";
  check_defined(queries, op);
  check_defined(keys, op);
  LUMEN_CHECK(queries.ndim() == 2 && keys.ndim() == 2 && queries.size(1) == keys.size(1) &&
                  queries.size(0) > 0 && keys.size(0) > 0 && queries.size(1) > 0,
              op, " expects queries (n, dim) and keys (m, dim) with n, m, dim > 0, got ",
              queries.str(), " and ", keys.str());
  check_same_device(queries, keys, op);
  check_same_dtype(queries, keys, op);
  LUMEN_CHECK(dtype_is_float(queries.dtype()), op, ": float rows expected, got ", queries.str());
  if (queries.dtype() == DType::f64) return nearest<double>(queries, keys, DType::f64);
  return nearest<float>(queries, keys, DType::f32);
}

}  // namespace lumen
