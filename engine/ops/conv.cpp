#include "engine/ops/conv.h"

#include "engine/autograd/tape.h"
#include "engine/ops/channel.h"
#include "engine/ops/conv_cpu.h"
#include "engine/ops/cudnn/conv_cudnn.h"
#include "engine/ops/gemm.h"
#include "kernels/conv.h"

namespace lumen {

namespace {

kernels::ConvGeometry geometry_of(const Tensor& x, const Tensor& w, int64_t stride,
                                  int64_t padding) {
  return kernels::ConvGeometry{x.size(0), x.size(1), x.size(2), x.size(3),
                               w.size(1), w.size(2), stride,    padding};
}

bool is_pointwise(const kernels::ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.padding == 0;
}

// The im2col matrix of x: (N*OH*OW, KH*KW*C); x itself (as a view) for 1x1 stride-1 convs.
Tensor lower_cpu(const Tensor& x, const kernels::ConvGeometry& g) {
  const int64_t rows = g.n * g.out_h() * g.out_w();
  if (is_pointwise(g)) return x.reshape({rows, g.c});
  Tensor cols = Tensor::empty({rows, g.patch()}, x.dtype());
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    kernels::im2col_cpu(x.data<T>(), cols.data<T>(), g);
  });
  return cols;
}

void check_conv_args(const Tensor& x, const Tensor& w, int64_t stride, int64_t padding) {
  check_defined(x, "conv2d");
  check_defined(w, "conv2d");
  LUMEN_CHECK(x.ndim() == 4, "conv2d: input must be NHWC (N, H, W, C), got ", x.str());
  LUMEN_CHECK(w.ndim() == 4, "conv2d: weight must be OHWI (out, kh, kw, in), got ", w.str());
  check_same_device(x, w, "conv2d");
  check_same_dtype(x, w, "conv2d");
  LUMEN_CHECK(w.size(3) == x.size(3), "conv2d: weight ", w.str(), " expects ", w.size(3),
              " input channels but the input ", x.str(), " has ", x.size(3),
              " (NHWC input, OHWI weight)");
  LUMEN_CHECK(stride >= 1 && padding >= 0, "conv2d: stride must be >= 1 and padding >= 0, got ",
              stride, " and ", padding);
  LUMEN_CHECK(x.size(1) + 2 * padding >= w.size(1) && x.size(2) + 2 * padding >= w.size(2),
              "conv2d: the ", w.size(1), "x", w.size(2), " kernel is larger than the padded input ",
              x.str(), " (padding ", padding, ")");
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& bias, int64_t stride,
              int64_t padding) {
  check_conv_args(x_in, w_in, stride, padding);
  const Tensor x = x_in.detach(), w = w_in.detach();
  const kernels::ConvGeometry g = geometry_of(x, w, stride, padding);
  const int64_t out_c = w.size(0), rows = g.n * g.out_h() * g.out_w();
  Tensor y = Tensor::empty_on({g.n, g.out_h(), g.out_w(), out_c}, x.dtype(), x);
  if (x.is_cuda()) {
    LUMEN_ON_CUDA(conv2d_forward_cudnn(x, w, y, stride, padding));
  } else if (conv2d_cpu_blocked(x.dtype())) {
    conv2d_forward_cpu(x, w, y, g);
  } else {
    Tensor y2 = y.reshape({rows, out_c});
    gemm(lower_cpu(x, g), w.reshape({out_c, g.patch()}), y2, false, true);
  }
  record_op("conv2d", y, {x_in, w_in},
            [x, w, g, stride, padding](const Tensor& dy, const std::vector<bool>& needs) {
              Tensor dx, dw;
              if (needs[0]) dx = Tensor::empty_like(x);
              if (needs[1]) dw = Tensor::empty_like(w);
              if (dy.is_cuda()) {
                LUMEN_ON_CUDA({
                  if (needs[0]) conv2d_backward_data_cudnn(dy, w, dx, stride, padding);
                  if (needs[1]) conv2d_backward_filter_cudnn(x, dy, dw, stride, padding);
                });
                return std::vector<Tensor>{dx, dw};
              }
              if (conv2d_cpu_blocked(dy.dtype())) {
                conv2d_backward_cpu(x, w, dy, dx, dw, g);
                return std::vector<Tensor>{dx, dw};
              }
              const int64_t out_c = w.size(0), rows = g.n * g.out_h() * g.out_w();
              const Tensor dy2 = dy.reshape({rows, out_c});
              const Tensor w2 = w.reshape({out_c, g.patch()});
              if (needs[1]) {
                Tensor dw2 = dw.reshape({out_c, g.patch()});
                gemm(dy2, lower_cpu(x, g), dw2, true, false);
              }
              if (needs[0]) {
                if (is_pointwise(g)) {
                  Tensor dx2 = dx.reshape({rows, g.c});
                  gemm(dy2, w2, dx2, false, false);
                } else {
                  Tensor dcols = Tensor::empty({rows, g.patch()}, dy.dtype());
                  gemm(dy2, w2, dcols, false, false);
                  dispatch_float(dy.dtype(), "conv2d backward", [&](auto tag) {
                    using T = decltype(tag);
                    kernels::col2im_cpu(dcols.data<T>(), dx.data<T>(), g);
                  });
                }
              }
              return std::vector<Tensor>{dx, dw};
            });
  return bias.defined() ? add_channel_bias(y, bias) : y;
}

}  // namespace lumen
