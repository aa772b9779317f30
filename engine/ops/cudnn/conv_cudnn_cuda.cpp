// cuDNN convolutions (legacy cuDNN 9 API). Every cuDNN call of the convolution ops lives here.
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "engine/ops/cudnn/conv_cudnn.h"
#include "engine/ops/cudnn/cudnn_check.h"

namespace lumen {

namespace {

cudnnDataType_t cudnn_dtype(DType t) {
  switch (t) {
    case DType::f32:
      return CUDNN_DATA_FLOAT;
    case DType::f64:
      return CUDNN_DATA_DOUBLE;
    case DType::bf16:
      return CUDNN_DATA_BFLOAT16;
    case DType::f16:
      return CUDNN_DATA_HALF;
    default:
      break;
  }
  LUMEN_FAIL("conv2d on CUDA: dtype ", dtype_name(t), " is not supported (f32, f64, bf16, f16)");
}

// RAII descriptors for one problem: x (N, H, W, C), w (O, KH, KW, C), y (N, OH, OW, O).
struct ConvDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ConvDescriptors(const Shape& xs, const Shape& ws, const Shape& ys, DType dtype, int64_t stride,
                  int64_t padding) {
    const cudnnDataType_t t = cudnn_dtype(dtype);
    LUMEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    LUMEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    LUMEN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    LUMEN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    LUMEN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, t, int(xs[0]), int(xs[3]),
                                                 int(xs[1]), int(xs[2])));
    LUMEN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, t, int(ys[0]), int(ys[3]),
                                                 int(ys[1]), int(ys[2])));
    LUMEN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w, t, CUDNN_TENSOR_NHWC, int(ws[0]), int(ws[3]),
                                                 int(ws[1]), int(ws[2])));
    const cudnnDataType_t compute = dtype == DType::f64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    LUMEN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, int(padding), int(padding), int(stride),
                                                      int(stride), 1, 1, CUDNN_CROSS_CORRELATION,
                                                      compute));
    // Tensor cores for bf16/f16; plain FMA for f32 (no TF32, as everywhere in Lumen).
    const bool half = dtype == DType::bf16 || dtype == DType::f16;
    LUMEN_CUDNN_CHECK(
        cudnnSetConvolutionMathType(conv, half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  }
  ~ConvDescriptors() {
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
  }
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;
};

enum class Pass { forward, backward_data, backward_filter };

// (pass, device, dtype, x shape, w shape, stride, padding) -> algorithm and workspace bytes.
using ProblemKey = std::tuple<int, int, int, Shape, Shape, int64_t, int64_t>;
struct Choice {
  int algorithm;
  size_t workspace;
};

// The algorithm cache: one per process (algorithm choice depends only on the problem and device),
// guarded for concurrent serving threads.
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<ProblemKey, Choice>& cache() {
  static std::map<ProblemKey, Choice> c;
  return c;
}

// Picks the first heuristic suggestion that cuDNN reports as supported and whose workspace it can
// size, and remembers it for the problem.
Choice choose(Pass pass, cudnnHandle_t handle, const ConvDescriptors& d, const Tensor& x,
              const Tensor& w, int64_t stride, int64_t padding) {
  const ProblemKey key{int(pass), x.device().index, int(x.dtype()), x.shape(),
                       w.shape(), stride,           padding};
  {
    std::lock_guard<std::mutex> lock(cache_mutex());
    auto found = cache().find(key);
    if (found != cache().end()) return found->second;
  }
  constexpr int kMax = 16;
  int returned = 0;
  Choice choice{-1, 0};
  if (pass == Pass::forward) {
    cudnnConvolutionFwdAlgoPerf_t perf[kMax];
    LUMEN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x, d.w, d.conv, d.y, kMax,
                                                             &returned, perf));
    for (int i = 0; i < returned && choice.algorithm < 0; ++i) {
      size_t bytes = 0;
      if (perf[i].status == CUDNN_STATUS_SUCCESS &&
          cudnnGetConvolutionForwardWorkspaceSize(handle, d.x, d.w, d.conv, d.y, perf[i].algo,
                                                  &bytes) == CUDNN_STATUS_SUCCESS) {
        choice = Choice{int(perf[i].algo), bytes};
      }
    }
  } else if (pass == Pass::backward_data) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMax];
    LUMEN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w, d.y, d.conv, d.x,
                                                                  kMax, &returned, perf));
    for (int i = 0; i < returned && choice.algorithm < 0; ++i) {
      size_t bytes = 0;
      if (perf[i].status == CUDNN_STATUS_SUCCESS &&
          cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w, d.y, d.conv, d.x, perf[i].algo,
                                                       &bytes) == CUDNN_STATUS_SUCCESS) {
        choice = Choice{int(perf[i].algo), bytes};
      }
    }
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kMax];
    LUMEN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.x, d.y, d.conv, d.w,
                                                                    kMax, &returned, perf));
    for (int i = 0; i < returned && choice.algorithm < 0; ++i) {
      size_t bytes = 0;
      if (perf[i].status == CUDNN_STATUS_SUCCESS &&
          cudnnGetConvolutionBackwardFilterWorkspaceSize(
              handle, d.x, d.y, d.conv, d.w, perf[i].algo, &bytes) == CUDNN_STATUS_SUCCESS) {
        choice = Choice{int(perf[i].algo), bytes};
      }
    }
  }
  LUMEN_CHECK(choice.algorithm >= 0, "conv2d on CUDA: cuDNN offers no algorithm for input ",
              x.str(), " and weight ", w.str(), " (stride ", stride, ", padding ", padding,
              "); try f32 or channel counts that are multiples of 8");
  std::lock_guard<std::mutex> lock(cache_mutex());
  cache()[key] = choice;
  return choice;
}

// Scratch for one call, from the context's stream-ordered pool.
Tensor workspace_for(const Choice& c, const Tensor& like) {
  return Tensor::empty_on({int64_t(c.workspace > 0 ? c.workspace : 1)}, DType::u8, like);
}

// alpha = 1, beta = 0 in the compute type (double for f64, float otherwise).
struct Scalars {
  float f1 = 1, f0 = 0;
  double d1 = 1, d0 = 0;
  bool dbl;
  explicit Scalars(DType t) : dbl(t == DType::f64) {}
  const void* one() const { return dbl ? static_cast<const void*>(&d1) : &f1; }
  const void* zero() const { return dbl ? static_cast<const void*>(&d0) : &f0; }
};

}  // namespace

void conv2d_forward_cudnn(const Tensor& x, const Tensor& w, Tensor& y, int64_t stride,
                          int64_t padding) {
  cudnnHandle_t handle = cudnn_handle(*x.context());
  ConvDescriptors d(x.shape(), w.shape(), y.shape(), x.dtype(), stride, padding);
  const Choice c = choose(Pass::forward, handle, d, x, w, stride, padding);
  Tensor ws = workspace_for(c, x);
  const Scalars s(x.dtype());
  LUMEN_CUDNN_CHECK(cudnnConvolutionForward(handle, s.one(), d.x, x.raw_data(), d.w, w.raw_data(),
                                            d.conv, cudnnConvolutionFwdAlgo_t(c.algorithm),
                                            ws.raw_data(), c.workspace, s.zero(), d.y,
                                            y.raw_data()));
}

bool conv2d_bias_act_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias,
                           const Tensor& residual, bool relu, Tensor& y, int64_t stride,
                           int64_t padding) {
  if (x.dtype() != DType::f32) return false;
  static std::mutex refused_mutex;
  static std::set<ProblemKey> refused;  // problems cuDNN declined: not asked again
  const ProblemKey key{int(Pass::forward), x.device().index, int(relu), x.shape(),
                       w.shape(),          stride,           padding};
  {
    std::lock_guard<std::mutex> lock(refused_mutex);
    if (refused.count(key)) return false;
  }
  cudnnHandle_t handle = cudnn_handle(*x.context());
  ConvDescriptors d(x.shape(), w.shape(), y.shape(), x.dtype(), stride, padding);
  // The identity activation is only fused with the implicit precomputed GEMM.
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
  size_t workspace = 0;
  if (relu) {
    const Choice c = choose(Pass::forward, handle, d, x, w, stride, padding);
    algo = cudnnConvolutionFwdAlgo_t(c.algorithm);
    workspace = c.workspace;
  } else if (cudnnGetConvolutionForwardWorkspaceSize(handle, d.x, d.w, d.conv, d.y, algo,
                                                     &workspace) != CUDNN_STATUS_SUCCESS) {
    std::lock_guard<std::mutex> lock(refused_mutex);
    refused.insert(key);
    return false;
  }
  cudnnTensorDescriptor_t bias_desc = nullptr;
  cudnnActivationDescriptor_t act = nullptr;
  LUMEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bias_desc));
  LUMEN_CUDNN_CHECK(cudnnCreateActivationDescriptor(&act));
  cudnnStatus_t fused_conv_status = cudnnSetTensor4dDescriptor(
      bias_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, 1, int(w.size(0)), 1, 1);
  if (fused_conv_status == CUDNN_STATUS_SUCCESS) {
    fused_conv_status = cudnnSetActivationDescriptor(
        act, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0);
  }
  Tensor ws = workspace_for(Choice{int(algo), workspace}, x);
  const float one = 1, residual_scale = residual.defined() ? 1.0f : 0.0f;
  // z is y itself when there is no residual (scaled by 0).
  const void* z = residual.defined() ? residual.raw_data() : y.raw_data();
  if (fused_conv_status == CUDNN_STATUS_SUCCESS) {
    fused_conv_status = cudnnConvolutionBiasActivationForward(
        handle, &one, d.x, x.raw_data(), d.w, w.raw_data(), d.conv, algo, ws.raw_data(), workspace,
        &residual_scale, d.y, z, bias_desc, bias.raw_data(), act, d.y, y.raw_data());
  }
  cudnnDestroyActivationDescriptor(act);
  cudnnDestroyTensorDescriptor(bias_desc);
  if (fused_conv_status == CUDNN_STATUS_NOT_SUPPORTED ||
      fused_conv_status == CUDNN_STATUS_BAD_PARAM) {
    std::lock_guard<std::mutex> lock(refused_mutex);
    refused.insert(key);
    return false;
  }
  LUMEN_CUDNN_CHECK(fused_conv_status);
  return true;
}

void conv2d_backward_data_cudnn(const Tensor& dy, const Tensor& w, Tensor& dx, int64_t stride,
                                int64_t padding) {
  cudnnHandle_t handle = cudnn_handle(*dy.context());
  ConvDescriptors d(dx.shape(), w.shape(), dy.shape(), dy.dtype(), stride, padding);
  const Choice c = choose(Pass::backward_data, handle, d, dx, w, stride, padding);
  Tensor ws = workspace_for(c, dy);
  const Scalars s(dy.dtype());
  LUMEN_CUDNN_CHECK(
      cudnnConvolutionBackwardData(handle, s.one(), d.w, w.raw_data(), d.y, dy.raw_data(), d.conv,
                                   cudnnConvolutionBwdDataAlgo_t(c.algorithm), ws.raw_data(),
                                   c.workspace, s.zero(), d.x, dx.raw_data()));
}

void conv2d_backward_filter_cudnn(const Tensor& x, const Tensor& dy, Tensor& dw, int64_t stride,
                                  int64_t padding) {
  cudnnHandle_t handle = cudnn_handle(*x.context());
  ConvDescriptors d(x.shape(), dw.shape(), dy.shape(), x.dtype(), stride, padding);
  const Choice c = choose(Pass::backward_filter, handle, d, x, dw, stride, padding);
  Tensor ws = workspace_for(c, x);
  const Scalars s(x.dtype());
  LUMEN_CUDNN_CHECK(
      cudnnConvolutionBackwardFilter(handle, s.one(), d.x, x.raw_data(), d.y, dy.raw_data(), d.conv,
                                     cudnnConvolutionBwdFilterAlgo_t(c.algorithm), ws.raw_data(),
                                     c.workspace, s.zero(), d.w, dw.raw_data()));
}

}  // namespace lumen
