#include "engine/ops/conv_cpu.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/core/storage.h"
#include "kernels/winograd.h"

namespace lumen {

namespace {

// Uninitialised scratch from the host block cache: a std::vector would zero it first, and a fresh
// allocation of this size would fault its pages in again on every call.
template <typename T>
class Scratch {
 public:
  explicit Scratch(int64_t count)
      : bytes_(size_t(count) * sizeof(T)),
        data_(static_cast<T*>(count > 0 ? host_allocate(bytes_) : nullptr)) {
    LUMEN_CHECK(count == 0 || data_ != nullptr, "conv2d: out of host memory for ", bytes_ >> 20,
                " MiB of im2col scratch");
  }
  ~Scratch() {
    if (data_) host_release(data_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return data_; }

 private:
  size_t bytes_;
  T* data_;
};

// Bytes of im2col rows one thread lowers at a time: about a core's L2 cache.
constexpr int64_t kBlockBytes = 1 << 20;
// Fewer rows make the GEMM's packing of the weights (K x N, per call) dominate: with 32-row blocks
// ResNet-18's 512-channel layers repacked 9.4 MB of weights per 32 rows. 128 was ~12% faster for
// ResNet-18 32x32 batch 32 at 2 threads (median of 4 interleaved runs: 860 vs 980 ms per step).
constexpr int64_t kMinBlockRows = 128;

// Row-major c = alpha * op(a) @ op(b) + beta * c (one thread when called in a parallel region).
void gemm_rm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
             const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
void gemm_rm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
             const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

bool is_pointwise(const kernels::ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.padding == 0;
}

// Rows per block: cache-sized, at least kMinBlockRows, and small enough that every thread gets
// a couple of blocks when there are enough rows.
template <typename T>
int64_t block_rows(const kernels::ConvGeometry& g, int64_t rows) {
  const int64_t by_cache = std::max(kMinBlockRows, kBlockBytes / int64_t(sizeof(T) * g.patch()));
  const int64_t threads = omp_get_max_threads();
  const int64_t by_balance = std::max(kMinBlockRows, (rows + 2 * threads - 1) / (2 * threads));
  return std::max<int64_t>(1, std::min({by_cache, by_balance, rows}));
}

template <typename T>
void forward(const T* x, const T* w, T* y, int64_t out_c, const kernels::ConvGeometry& g) {
  const int64_t rows = g.n * g.out_h() * g.out_w(), patch = g.patch();
  const int64_t bs = block_rows<T>(g, rows), blocks = (rows + bs - 1) / bs;
  const bool pointwise = is_pointwise(g);
  // One slice of im2col rows per thread, allocated here: nothing may throw inside the region.
  const int threads = omp_get_max_threads();
  Scratch<T> scratch(pointwise ? 0 : int64_t(threads) * bs * patch);
#pragma omp parallel num_threads(threads) if (blocks > 1)
  {
    T* cols = scratch.data() + (pointwise ? 0 : omp_get_thread_num() * bs * patch);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * bs, r1 = std::min(rows, r0 + bs);
      const T* a = x + r0 * g.c;  // 1x1 stride 1: the input rows are the im2col rows
      if (!pointwise) {
        kernels::im2col_rows_cpu(x, cols, g, r0, r1);
        a = cols;
      }
      gemm_rm(false, true, r1 - r0, out_c, patch, a, patch, w, patch, T(0), y + r0 * out_c, out_c);
    }
  }
}

// Blocks of whole images (or of rows within one image when an image alone is larger than a
// block), so that each image's input gradient is written by one thread only.
template <typename T>
void backward(const T* x, const T* w, const T* dy, T* dx, T* dw, int64_t out_c,
              const kernels::ConvGeometry& g) {
  const int64_t per_image = g.out_h() * g.out_w(), patch = g.patch();
  const int64_t rows = g.n * per_image;
  const int64_t bs = block_rows<T>(g, rows);
  const int64_t images_per_group = std::max<int64_t>(1, bs / per_image);
  const int64_t groups = (g.n + images_per_group - 1) / images_per_group;
  const bool pointwise = is_pointwise(g);
  const int64_t image = g.h * g.w * g.c, w_size = out_c * patch;
  const int threads = omp_get_max_threads();
  // Per-thread filter gradients, summed in thread order afterwards (deterministic for a given
  // thread count).
  std::vector<T> partial(dw ? size_t(threads) * w_size : 0, T(0));
  const int64_t slice = bs * patch;  // per thread: im2col rows, and their gradient
  Scratch<T> scratch(pointwise ? 0 : int64_t(threads) * 2 * slice);
#pragma omp parallel num_threads(threads) if (groups > 1)
  {
    T* cols = scratch.data() + (pointwise ? 0 : omp_get_thread_num() * 2 * slice);
    T* dcols = pointwise ? nullptr : cols + slice;
    T* dw_mine = dw ? partial.data() + size_t(omp_get_thread_num()) * w_size : nullptr;
#pragma omp for schedule(static)
    for (int64_t grp = 0; grp < groups; ++grp) {
      const int64_t n0 = grp * images_per_group, n1 = std::min(g.n, n0 + images_per_group);
      if (dx && !pointwise) std::memset(dx + n0 * image, 0, sizeof(T) * (n1 - n0) * image);
      for (int64_t r0 = n0 * per_image; r0 < n1 * per_image; r0 += bs) {
        const int64_t r1 = std::min(n1 * per_image, r0 + bs), m = r1 - r0;
        const T* dy_rows = dy + r0 * out_c;
        if (dw) {
          const T* a = x + r0 * g.c;
          if (!pointwise) {
            kernels::im2col_rows_cpu(x, cols, g, r0, r1);
            a = cols;
          }
          gemm_rm(true, false, out_c, patch, m, dy_rows, out_c, a, patch, T(1), dw_mine, patch);
        }
        if (dx && pointwise) {
          gemm_rm(false, false, m, g.c, out_c, dy_rows, out_c, w, patch, T(0), dx + r0 * g.c, g.c);
        } else if (dx) {
          gemm_rm(false, false, m, patch, out_c, dy_rows, out_c, w, patch, T(0), dcols, patch);
          kernels::col2im_add_rows_cpu(dcols, dx, g, r0, r1);
        }
      }
    }
  }
  if (!dw) return;
#pragma omp parallel for schedule(static) if (w_size > 65536)
  for (int64_t e = 0; e < w_size; ++e) {
    T s = partial[e];
    for (int t = 1; t < threads; ++t) s += partial[size_t(t) * w_size + e];
    dw[e] = s;
  }
}

// Winograd F(2x2, 3x3) (kernels/winograd.h) takes 3x3 stride-1 padding-1 layers with at least this
// many input and output channels (not the stems' 3). Measured at 2 threads, interleaved runs:
// ResNet-18 32x32 batch 32 (64-512 channels) 60 vs 50 img/s; the main job's resnet-9 x0.25 28x28
// batch 256 (16-128 channels) 1358-1472 img/s with a threshold of 16, 1121-1206 with 64.
constexpr int64_t kWinogradMinChannels = 16;

bool winograd_fits(const kernels::ConvGeometry& g, int64_t out_c) {
  return g.kh == 3 && g.kw == 3 && g.stride == 1 && g.padding == 1 && g.c >= kWinogradMinChannels &&
         out_c >= kWinogradMinChannels;
}

// Tiles per block: the block's transformed tiles (16 x tiles x `channels`, input and output sides
// together) about kBlockBytes, at least 32 tiles, and every thread given a couple of blocks.
template <typename T>
int64_t winograd_tile_block(int64_t tiles, int64_t channels, int threads) {
  const int64_t by_cache = kBlockBytes / (16 * channels * int64_t(sizeof(T)));
  const int64_t by_balance = (tiles + 2 * threads - 1) / (2 * threads);
  return std::max<int64_t>(1, std::min(std::max<int64_t>(32, by_cache), by_balance));
}

// One of the two convolutions through the Winograd domain (kernels/winograd.h), per block of
// tiles: the input transform, the 16 GEMMs, the output transform, with V and M in cache-sized
// scratch.
//   forward:    in = x (N, H, W, C),  out = y (N, H, W, K):   M[xi] = V[xi] @ U[xi]^T
//   input_grad: in = dy (N, H, W, K), out = dx (N, H, W, C):  M[xi] = V[xi] @ U[flip(xi)]
//   w: (K, 3, 3, C), transformed here into U (16, K, C)
template <typename T>
void winograd(const T* in, const T* w, T* out, int64_t k, const kernels::ConvGeometry& g,
              bool input_grad) {
  const int64_t c = g.c;
  const int64_t in_c = input_grad ? k : c, out_c = input_grad ? c : k;
  Scratch<T> u(16 * k * c);
  kernels::winograd_filter_transform_cpu(w, k, c, u.data());
  const kernels::WinogradShape s{g.n, g.h, g.w};
  const int64_t tiles = s.tiles();
  const int threads = omp_get_max_threads();
  const int64_t tb = winograd_tile_block<T>(tiles, in_c + out_c, threads);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const int64_t slice = 16 * tb * (in_c + out_c);  // per thread: V, then M
  Scratch<T> scratch(int64_t(threads) * slice);
#pragma omp parallel num_threads(threads) if (blocks > 1)
  {
    T* v = scratch.data() + omp_get_thread_num() * slice;
    T* m = v + 16 * tb * in_c;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t t0 = b * tb, t1 = std::min(tiles, t0 + tb), count = t1 - t0;
      kernels::winograd_input_transform_cpu(in, s, in_c, t0, t1, v, count);
      for (int xi = 0; xi < 16; ++xi) {
        const T* v_xi = v + xi * count * in_c;
        T* m_xi = m + xi * count * out_c;
        if (input_grad) {  // U[flip] is (K, C) = (in_c, out_c)
          gemm_rm(false, false, count, out_c, in_c, v_xi, in_c,
                  u.data() + kernels::winograd_flip(xi) * k * c, out_c, T(0), m_xi, out_c);
        } else {  // U is (K, C) = (out_c, in_c): transposed
          gemm_rm(false, true, count, out_c, in_c, v_xi, in_c, u.data() + xi * k * c, in_c, T(0),
                  m_xi, out_c);
        }
      }
      kernels::winograd_output_transform_cpu(m, s, out_c, t0, t1, out);
    }
  }
}

// Bytes of per-thread filter-gradient partials (16 K C each) the Winograd filter gradient may
// use; beyond it (many threads and wide layers) the filter gradient takes im2col.
constexpr int64_t kWinogradPartialBytes = int64_t(256) << 20;

// The filter gradient through the Winograd domain (kernels/winograd.h): per block of tiles the
// input transform V of x and the transform Z of dy, then dU[xi] += Z[xi]^T V[xi] into per-thread
// partials (added in thread order), then dW = G^T dU G. Returns false, doing nothing, when the
// partials would exceed kWinogradPartialBytes.
//   x: (N, H, W, C);  dy: (N, H, W, K);  dw: (K, 3, 3, C), overwritten
template <typename T>
bool winograd_filter_grad(const T* x, const T* dy, T* dw, int64_t k,
                          const kernels::ConvGeometry& g) {
  const int64_t c = g.c;
  const int threads = omp_get_max_threads();
  const int64_t u_size = 16 * k * c;
  if (int64_t(threads) * u_size * int64_t(sizeof(T)) > kWinogradPartialBytes) return false;
  const kernels::WinogradShape s{g.n, g.h, g.w};
  const int64_t tiles = s.tiles();
  const int64_t tb = winograd_tile_block<T>(tiles, c + k, threads);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const int64_t slice = 16 * tb * (c + k);  // per thread: V, then Z
  Scratch<T> scratch(int64_t(threads) * slice);
  // Uninitialised: each thread's first block writes its partial (beta 0), later ones add to it.
  Scratch<T> partial(int64_t(threads) * u_size);
  std::vector<char> used(size_t(threads), 0);
#pragma omp parallel num_threads(threads) if (blocks > 1)
  {
    const int me = omp_get_thread_num();
    T* v = scratch.data() + me * slice;
    T* z = v + 16 * tb * c;
    T* du = partial.data() + me * u_size;
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t t0 = b * tb, t1 = std::min(tiles, t0 + tb), count = t1 - t0;
      kernels::winograd_input_transform_cpu(x, s, c, t0, t1, v, count);
      kernels::winograd_grad_transform_cpu(dy, s, k, t0, t1, z);
      const T beta = used[size_t(me)] ? T(1) : T(0);
      for (int xi = 0; xi < 16; ++xi) {
        gemm_rm(true, false, k, c, count, z + xi * count * k, k, v + xi * count * c, c, beta,
                du + xi * k * c, c);
      }
      used[size_t(me)] = 1;
    }
  }
  // Sum the partials of the threads that had blocks, in thread order, into thread 0's.
  T* sum = partial.data();
  LUMEN_CHECK(used[0], "conv2d: Winograd filter gradient without a first block");
  for (int t = 1; t < threads; ++t) {
    if (!used[size_t(t)]) continue;
    const T* other = partial.data() + t * u_size;
#pragma omp parallel for schedule(static) if (u_size > 65536)
    for (int64_t e = 0; e < u_size; ++e) sum[e] += other[e];
  }
  kernels::winograd_filter_grad_cpu(sum, k, c, dw);
  return true;
}

}  // namespace

bool conv2d_cpu_blocked(DType t) { return t == DType::f32 || t == DType::f64; }

void conv2d_forward_cpu(const Tensor& x, const Tensor& w, Tensor& y,
                        const kernels::ConvGeometry& g) {
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      if (winograd_fits(g, w.size(0))) {
        winograd(x.data<T>(), w.data<T>(), y.data<T>(), w.size(0), g, false);
      } else {
        forward(x.data<T>(), w.data<T>(), y.data<T>(), w.size(0), g);
      }
    } else {
      LUMEN_CHECK(false, "conv2d_forward_cpu: f32 or f64 only, got ", dtype_name(x.dtype()));
    }
  });
}

void conv2d_backward_cpu(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw,
                         const kernels::ConvGeometry& g) {
  dispatch_float(x.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      T* dx_out = dx.defined() ? dx.data<T>() : nullptr;
      T* dw_out = dw.defined() ? dw.data<T>() : nullptr;
      if (winograd_fits(g, w.size(0))) {
        if (dx_out != nullptr) winograd(dy.data<T>(), w.data<T>(), dx_out, w.size(0), g, true);
        dx_out = nullptr;
        if (dw_out != nullptr &&
            winograd_filter_grad(x.data<T>(), dy.data<T>(), dw_out, w.size(0), g)) {
          dw_out = nullptr;
        }
      }
      if (dx_out != nullptr || dw_out != nullptr) {
        backward(x.data<T>(), w.data<T>(), dy.data<T>(), dx_out, dw_out, w.size(0), g);
      }
    } else {
      LUMEN_CHECK(false, "conv2d_backward_cpu: f32 or f64 only, got ", dtype_name(x.dtype()));
    }
  });
}

}  // namespace lumen
