#include "engine/infer/gpu_conv.h"

#include "engine/ops/cudnn/conv_cudnn.h"
#include "kernels/epilogue.h"

namespace lumen {

Tensor empty_in_context(const std::shared_ptr<CudaContext>& ctx, const Shape& shape, DType dtype) {
  LUMEN_CHECK(ctx, "empty_in_context: no CUDA context");
  const size_t bytes = size_t(shape_numel(shape)) * dtype_size(dtype);
  return Tensor::view_of(
      Storage::allocate(std::max<size_t>(bytes, 1), Device::cuda(ctx->device()), ctx), 0, shape,
      dtype);
}

GpuConv::GpuConv(const FusedConv& conv, const std::shared_ptr<CudaContext>& ctx, DType dtype)
    : stride_(conv.stride()), padding_(conv.padding()), relu_(conv.relu()) {
  LUMEN_CHECK(dtype == DType::f32 || dtype == DType::bf16 || dtype == DType::f16,
              "GPU inference: dtype ", dtype_name(dtype), " is not supported (f32, bf16, f16)");
  weight_ = empty_in_context(ctx, conv.weight().shape(), dtype);
  weight_.copy_from(conv.weight());
  bias_ = empty_in_context(ctx, conv.bias().shape(), DType::f32);
  bias_.copy_from(conv.bias());
}

Tensor GpuConv::run(const Tensor& x, const Tensor& residual) const {
  const int64_t out_c = weight_.size(0), k = weight_.size(1);
  const int64_t oh = (x.size(1) + 2 * padding_ - k) / stride_ + 1;
  const int64_t ow = (x.size(2) + 2 * padding_ - k) / stride_ + 1;
  Tensor y = Tensor::empty_on({x.size(0), oh, ow, out_c}, x.dtype(), x);
  LUMEN_ON_CUDA({
    if (!conv2d_bias_act_cudnn(x, weight_, bias_, residual, relu_, y, stride_, padding_)) {
      conv2d_forward_cudnn(x, weight_, y, stride_, padding_);
      const int64_t rows = y.numel() / out_c;
      dispatch_float(y.dtype(), "GPU inference epilogue", [&](auto tag) {
        using T = decltype(tag);
        if constexpr (std::is_same_v<T, double>) {
          LUMEN_FAIL("GPU inference: f64 is not supported");
        } else {
          kernels::conv_epilogue_cuda(y.data<T>(), bias_.data<float>(),
                                      residual.defined() ? residual.data<T>() : nullptr, relu_,
                                      rows, out_c, stream_of(y));
        }
      });
    }
  });
  return y;
}

}  // namespace lumen
