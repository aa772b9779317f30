// The large passes (binary, relu forward/backward) move 16-byte vectors when n and the pointers
// allow it: V elements per thread and iteration, V = kVec<T> or 1.
#include "kernels/elementwise.h"
#include "kernels/launch.cuh"
#include "kernels/vec.cuh"

namespace lumen::kernels {

template <typename T, int V>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  LUMEN_GRID_STRIDE(iv, n / V) {
    const Vec<T, V> av = load_vec<V>(a + iv * V), bv = load_vec<V>(b + iv * V);
    Vec<T, V> out;
#pragma unroll
    for (int k = 0; k < V; ++k) out.v[k] = store<T>(binary_apply(op, load(av.v[k]), load(bv.v[k])));
    store_vec<V>(y + iv * V, out);
  }
}
template <typename T>
__global__ void axpby_kernel(compute_t<T> alpha, const T* x, compute_t<T> beta, T* y, int64_t n) {
  if (beta == compute_t<T>(0)) {
    LUMEN_GRID_STRIDE(i, n) y[i] = store<T>(alpha * load(x[i]));
  } else {
    LUMEN_GRID_STRIDE(i, n) y[i] = store<T>(alpha * load(x[i]) + beta * load(y[i]));
  }
}
template <typename T>
__global__ void scale_by_scalar_kernel(const T* x, const T* s, compute_t<T> alpha, T* y,
                                       int64_t n) {
  const compute_t<T> k = alpha * load(s[0]);
  LUMEN_GRID_STRIDE(i, n) y[i] = store<T>(k * load(x[i]));
}
template <typename T>
__global__ void broadcast_scalar_kernel(const T* s, compute_t<T> alpha, T* y, int64_t n) {
  const T v = store<T>(alpha * load(s[0]));
  LUMEN_GRID_STRIDE(i, n) y[i] = v;
}
template <typename T, int V>
__global__ void relu_forward_kernel(const T* x, T* y, int64_t n) {
  LUMEN_GRID_STRIDE(iv, n / V) {
    const Vec<T, V> xv = load_vec<V>(x + iv * V);
    Vec<T, V> out;
#pragma unroll
    for (int k = 0; k < V; ++k) out.v[k] = store<T>(relu_forward_elem(load(xv.v[k])));
    store_vec<V>(y + iv * V, out);
  }
}
template <typename T, int V>
__global__ void relu_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  LUMEN_GRID_STRIDE(iv, n / V) {
    const Vec<T, V> xv = load_vec<V>(x + iv * V), dv = load_vec<V>(dy + iv * V);
    Vec<T, V> out;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      out.v[k] = store<T>(relu_backward_elem(load(xv.v[k]), load(dv.v[k])));
    }
    store_vec<V>(dx + iv * V, out);
  }
}

template <typename T>
__global__ void unary_forward_kernel(UnaryOp op, const T* x, T* y, int64_t n) {
  LUMEN_GRID_STRIDE(i, n) y[i] = store<T>(unary_forward_elem(op, load(x[i])));
}
template <typename T>
__global__ void unary_backward_kernel(UnaryOp op, const T* saved, const T* dy, T* dx, int64_t n) {
  LUMEN_GRID_STRIDE(i, n) dx[i] = store<T>(unary_backward_elem(op, load(saved[i]), load(dy[i])));
}

template <typename T>
void binary_cuda(BinaryOp op, const T* a, const T* b, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int V = kVec<T>;
  if (vec_width<T>(n, {a, b, y}) == V) {
    binary_kernel<T, V><<<grid_for(n / V), kBlock, 0, stream>>>(op, a, b, y, n);
  } else {
    binary_kernel<T, 1><<<grid_for(n), kBlock, 0, stream>>>(op, a, b, y, n);
  }
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void axpby_cuda(double alpha, const T* x, double beta, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  using C = compute_t<T>;
  axpby_kernel<<<grid_for(n), kBlock, 0, stream>>>(C(alpha), x, C(beta), y, n);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void scale_by_scalar_cuda(const T* x, const T* s, double alpha, T* y, int64_t n,
                          cudaStream_t stream) {
  if (n == 0) return;
  scale_by_scalar_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, s, compute_t<T>(alpha), y, n);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void broadcast_scalar_cuda(const T* s, double alpha, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  broadcast_scalar_kernel<<<grid_for(n), kBlock, 0, stream>>>(s, compute_t<T>(alpha), y, n);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void relu_forward_cuda(const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int V = kVec<T>;
  if (vec_width<T>(n, {x, y}) == V) {
    relu_forward_kernel<T, V><<<grid_for(n / V), kBlock, 0, stream>>>(x, y, n);
  } else {
    relu_forward_kernel<T, 1><<<grid_for(n), kBlock, 0, stream>>>(x, y, n);
  }
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void relu_backward_cuda(const T* x, const T* dy, T* dx, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  constexpr int V = kVec<T>;
  if (vec_width<T>(n, {x, dy, dx}) == V) {
    relu_backward_kernel<T, V><<<grid_for(n / V), kBlock, 0, stream>>>(x, dy, dx, n);
  } else {
    relu_backward_kernel<T, 1><<<grid_for(n), kBlock, 0, stream>>>(x, dy, dx, n);
  }
  LUMEN_LAUNCH_CHECK();
}

template <typename T>
void unary_forward_cuda(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  unary_forward_kernel<<<grid_for(n), kBlock, 0, stream>>>(op, x, y, n);
  LUMEN_LAUNCH_CHECK();
}
template <typename T>
void unary_backward_cuda(UnaryOp op, const T* saved, const T* dy, T* dx, int64_t n,
                         cudaStream_t stream) {
  if (n == 0) return;
  unary_backward_kernel<<<grid_for(n), kBlock, 0, stream>>>(op, saved, dy, dx, n);
  LUMEN_LAUNCH_CHECK();
}

#define LUMEN_INSTANTIATE(T)                                                                    \
  template void binary_cuda<T>(BinaryOp, const T*, const T*, T*, int64_t, cudaStream_t);        \
  template void axpby_cuda<T>(double, const T*, double, T*, int64_t, cudaStream_t);             \
  template void scale_by_scalar_cuda<T>(const T*, const T*, double, T*, int64_t, cudaStream_t); \
  template void broadcast_scalar_cuda<T>(const T*, double, T*, int64_t, cudaStream_t);          \
  template void relu_forward_cuda<T>(const T*, T*, int64_t, cudaStream_t);                      \
  template void relu_backward_cuda<T>(const T*, const T*, T*, int64_t, cudaStream_t);           \
  template void unary_forward_cuda<T>(UnaryOp, const T*, T*, int64_t, cudaStream_t);            \
  template void unary_backward_cuda<T>(UnaryOp, const T*, const T*, T*, int64_t, cudaStream_t);
LUMEN_INSTANTIATE(float)
LUMEN_INSTANTIATE(double)
LUMEN_INSTANTIATE(bf16)
LUMEN_INSTANTIATE(f16)

}  // namespace lumen::kernels
