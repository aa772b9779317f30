#include "engine/ops/index_rows.h"

#include "kernels/gather.h"

namespace lumen {

Tensor index_rows(const Tensor& x, const Tensor& index) {
  const char* op = "index_rows";
  check_defined(x, op);
  check_defined(index, op);
  LUMEN_CHECK(x.ndim() >= 1, op, ": x needs a row dim, got ", x.str());
  LUMEN_CHECK(index.ndim() == 1 && index.dtype() == DType::i64, op,
              ": index must be (count) i64, got ", index.str());
  check_same_device(x, index, op);
  const int64_t rows = x.size(0), count = index.size(0);
  Shape shape = x.shape();
  shape[0] = count;
  Tensor out = Tensor::empty_on(shape, x.dtype(), x);
  const int64_t row_bytes = rows > 0 ? int64_t(x.nbytes()) / rows : 0;
  const auto* src = static_cast<const uint8_t*>(x.raw_data());
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  if (x.is_cuda()) {
    LUMEN_ON_CUDA(
        kernels::gather_rows_cuda(src, row_bytes, index.data<int64_t>(), count, dst, stream_of(x)));
  } else {
    const int64_t* idx = index.data<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      LUMEN_CHECK(idx[i] >= 0 && idx[i] < rows, op, ": index ", idx[i], " at position ", i,
                  " is outside [0, ", rows, ")");
    }
    kernels::gather_rows_cpu(src, row_bytes, idx, count, dst);
  }
  return out;
}

}  // namespace lumen
