#include "engine/ops/topk.h"

#include "kernels/topk.h"

namespace lumen {

namespace {

template <typename C>
void topk(const Tensor& x, int64_t k, const int64_t* exclude, Tensor& values, Tensor& indices) {
  const int64_t rows = x.size(0), cols = x.size(1);
  if (x.is_cuda()) {
    LUMEN_ON_CUDA(kernels::row_topk_cuda(x.data<C>(), rows, cols, k, exclude, values.data<C>(),
                                         indices.data<int64_t>(), stream_of(x)));
  } else {
    kernels::row_topk_cpu(x.data<C>(), rows, cols, k, exclude, values.data<C>(),
                          indices.data<int64_t>());
  }
}

}  // namespace

void row_topk_into(const Tensor& x, int64_t k, const Tensor& exclude, Tensor& values,
                   Tensor& indices) {
  const char* op = "row_topk";
  check_defined(x, op);
  LUMEN_CHECK(x.ndim() == 2 && (x.dtype() == DType::f32 || x.dtype() == DType::f64), op,
              ": x must be (rows, cols) f32 or f64, got ", x.str());
  const int64_t rows = x.size(0), cols = x.size(1);
  const int64_t available = exclude.defined() ? cols - 1 : cols;
  LUMEN_CHECK(k >= 1 && k <= available, op, ": k = ", k, " but rows have ", available,
              " candidates");
  LUMEN_CHECK(!x.is_cuda() || k <= kernels::kMaxCudaTopk, op, ": k = ", k,
              " is more than the GPU kernel selects (", kernels::kMaxCudaTopk, ")");
  const Shape out_shape{rows, k};
  LUMEN_CHECK(values.shape() == out_shape && values.dtype() == x.dtype() &&
                  indices.shape() == out_shape && indices.dtype() == DType::i64,
              op, ": outputs ", values.str(), " and ", indices.str(), " should be (", rows, ", ", k,
              ") ", dtype_name(x.dtype()), " and i64");
  check_same_device(x, values, op);
  check_same_device(x, indices, op);
  if (exclude.defined()) {
    LUMEN_CHECK(exclude.ndim() == 1 && exclude.size(0) == rows && exclude.dtype() == DType::i64, op,
                ": exclude ", exclude.str(), " should be (", rows, ") i64");
    check_same_device(x, exclude, op);
  }
  const int64_t* ex = exclude.defined() ? exclude.data<int64_t>() : nullptr;
  if (x.dtype() == DType::f64) {
    topk<double>(x, k, ex, values, indices);
  } else {
    topk<float>(x, k, ex, values, indices);
  }
}

TopK row_topk(const Tensor& x, int64_t k, const Tensor& exclude) {
  check_defined(x, "row_topk");
  LUMEN_CHECK(x.ndim() == 2, "row_topk: x must be (rows, cols), got ", x.str());
  TopK out{Tensor::empty_on({x.size(0), k}, x.dtype(), x),
           Tensor::empty_on({x.size(0), k}, DType::i64, x)};
  row_topk_into(x, k, exclude, out.values, out.indices);
  return out;
}

}  // namespace lumen
