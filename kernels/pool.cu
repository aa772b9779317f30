#include "kernels/launch.cuh"
#include "kernels/pool.cuh"
#include "kernels/pool.h"

namespace lumen::kernels {

namespace {

template <typename T>
__global__ void max_pool_forward_kernel(const T* x, T* y, int32_t* argmax, ConvGeometry g) {
  using C = compute_t<T>;
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  LUMEN_GRID_STRIDE(o, g.n * oh_n * ow_n * g.c) {
    const int64_t c = o % g.c, ow = (o / g.c) % ow_n, oh = (o / (g.c * ow_n)) % oh_n;
    const int64_t n = o / (g.c * ow_n * oh_n);
    C best;
    int32_t best_index;
    max_pool_window(x + n * g.h * g.w * g.c, g, oh, ow, c, best, best_index);
    y[o] = store<T>(best);
    argmax[o] = best_index;
  }
}

// Gathers, for each input element, dy of the windows whose maximum it was (deterministic, no
// atomics).
template <typename T>
__global__ void max_pool_backward_kernel(const T* dy, const int32_t* argmax, T* dx,
                                         ConvGeometry g) {
  using C = compute_t<T>;
  const int64_t oh_n = g.out_h(), ow_n = g.out_w();
  LUMEN_GRID_STRIDE(e, g.n * g.h * g.w * g.c) {
    const int64_t c = e % g.c, xx = (e / g.c) % g.w, yy = (e / (g.c * g.w)) % g.h;
    const int64_t n = e / (g.c * g.w * g.h);
    const int32_t self = int32_t((yy * g.w + xx) * g.c + c);
    // windows oh with oh*s - p <= yy <= oh*s - p + k - 1
    int64_t oh_lo = yy + g.padding - g.kh + 1;
    oh_lo = oh_lo <= 0 ? 0 : (oh_lo + g.stride - 1) / g.stride;
    int64_t oh_hi = (yy + g.padding) / g.stride;
    if (oh_hi >= oh_n) oh_hi = oh_n - 1;
    int64_t ow_lo = xx + g.padding - g.kw + 1;
    ow_lo = ow_lo <= 0 ? 0 : (ow_lo + g.stride - 1) / g.stride;
    int64_t ow_hi = (xx + g.padding) / g.stride;
    if (ow_hi >= ow_n) ow_hi = ow_n - 1;
    C acc = 0;
    for (int64_t oh = oh_lo; oh <= oh_hi; ++oh) {
      for (int64_t ow = ow_lo; ow <= ow_hi; ++ow) {
        const int64_t o = ((n * oh_n + oh) * ow_n + ow) * g.c + c;
        if (argmax[o] == self) acc += C(load(dy[o]));
      }
    }
    dx[e] = store<T>(acc);
  }
}

template <typename T>
__global__ void avg_pool_forward_kernel(const T* x, T* y, int64_t n, int64_t hw, int64_t c) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(o, n * c) {
    const int64_t b = o / c, j = o % c;
    C acc = 0;
    for (int64_t p = 0; p < hw; ++p) acc += C(load(x[(b * hw + p) * c + j]));
    y[o] = store<T>(global_avg_pool_mean(acc, hw));
  }
}

template <typename T>
__global__ void avg_pool_backward_kernel(const T* dy, T* dx, int64_t n, int64_t hw, int64_t c) {
  using C = compute_t<T>;
  LUMEN_GRID_STRIDE(e, n * hw * c) {
    const int64_t j = e % c, b = e / (hw * c);
    dx[e] = store<T>(global_avg_pool_grad(C(load(dy[b * c + j])), hw));
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward_cuda(const T* x, T* y, int32_t* argmax, const ConvGeometry& g,
                             cudaStream_t stream) {
  const int64_t total = g.n * g.out_h() * g.out_w() * g.c;
  if (total == 0) return;
  max_pool_forward_kernel<<<grid_for(total), kBlock, 0, stream>>>(x, y, argmax, g);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void max_pool2d_backward_cuda(const T* dy, const int32_t* argmax, T* dx, const ConvGeometry& g,
                              cudaStream_t stream) {
  const int64_t total = g.n * g.h * g.w * g.c;
  if (total == 0) return;
  max_pool_backward_kernel<<<grid_for(total), kBlock, 0, stream>>>(dy, argmax, dx, g);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void global_avg_pool_forward_cuda(const T* x, T* y, int64_t n, int64_t hw, int64_t c,
                                  cudaStream_t stream) {
  if (n * c == 0) return;
  avg_pool_forward_kernel<<<grid_for(n * c), kBlock, 0, stream>>>(x, y, n, hw, c);
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void global_avg_pool_backward_cuda(const T* dy, T* dx, int64_t n, int64_t hw, int64_t c,
                                   cudaStream_t stream) {
  if (n * hw * c == 0) return;
  avg_pool_backward_kernel<<<grid_for(n * hw * c), kBlock, 0, stream>>>(dy, dx, n, hw, c);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                   \
  template void max_pool2d_forward_cuda<T>(const T*, T*, int32_t*, const ConvGeometry&,        \
                                           cudaStream_t);                                      \
  template void max_pool2d_backward_cuda<T>(const T*, const int32_t*, T*, const ConvGeometry&, \
                                            cudaStream_t);                                     \
  template void global_avg_pool_forward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,       \
                                                cudaStream_t);                                 \
  template void global_avg_pool_backward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,      \
                                                 cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
