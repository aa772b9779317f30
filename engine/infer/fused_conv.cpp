#include "engine/infer/fused_conv.h"

#include <omp.h>

#include <algorithm>

#include "kernels/conv.h"
#include "kernels/winograd.h"

namespace lumen {

namespace {

// K is split into blocks of at most this many columns, so that a panel's block of packed B
// (kKBlock x NR floats, 128 KiB for NR = 64) stays in L2 while every row tile of a chunk passes
// over it, and each panel is read from memory once per chunk rather than once per row tile.
constexpr int64_t kKBlock = 512;
// A of one chunk of rows (for one K block): about a core's L2 share, so that it stays there while
// every panel of B passes over it.
constexpr int64_t kChunkBytes = 256 << 10;
// Below this many bytes of im2col rows the whole batch is lowered once, shared by the threads,
// which then split the panels too (small images: few rows, many output channels).
constexpr int64_t kSharedLowerBytes = 8 << 20;
// Winograd needs enough tiles to pay for its transforms: below this the direct path is faster.
// At 16 tiles (7x7 images) Winograd still won: 0.60 against 0.98 ms for ResNet-18's 512-channel
// layers at batch 1 on 2 cores, both bound by reading the weights.
constexpr int64_t kWinogradMinTiles = 16;
constexpr int64_t kWinogradMinChannels = 16;
// Scratch of one Winograd block (V and M) per thread.
constexpr int64_t kWinogradBlockBytes = 1 << 20;

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

}  // namespace

FusedConv::FusedConv(const Tensor& weight, const Tensor& bias, int64_t stride, int64_t padding,
                     bool relu)
    : weight_(weight.clone()),
      bias_(bias.clone()),
      in_c_(weight.size(3)),
      out_c_(weight.size(0)),
      kernel_(weight.size(1)),
      stride_(stride),
      padding_(padding),
      relu_(relu),
      gemm_(&kernels::gemm_kernel()) {
  LUMEN_CHECK(weight.ndim() == 4 && weight.size(1) == weight.size(2) &&
                  weight.dtype() == DType::f32 && !weight.is_cuda(),
              "FusedConv: weight must be (O, K, K, C) f32 on the CPU, got ", weight.str());
  LUMEN_CHECK(
      bias.ndim() == 1 && bias.size(0) == out_c_ && bias.dtype() == DType::f32 && !bias.is_cuda(),
      "FusedConv: bias must be (", out_c_, ") f32 on the CPU, got ", bias.str());
  LUMEN_CHECK(stride >= 1 && padding >= 0, "FusedConv: stride ", stride, ", padding ", padding);
  const int64_t patch = kernel_ * kernel_ * in_c_;
  packed_ = Tensor::empty({kernels::packed_b_size(out_c_, patch, gemm_->nr)});
  kernels::pack_b_cpu(weight_.data<float>(), out_c_, patch, gemm_->nr, packed_.data<float>());
  if (kernel_ == 3 && stride_ == 1 && padding_ == 1 && in_c_ >= kWinogradMinChannels &&
      out_c_ >= kWinogradMinChannels) {
    Tensor u = Tensor::empty({16, out_c_, in_c_});
    kernels::winograd_filter_transform_cpu(weight_.data<float>(), out_c_, in_c_, u.data<float>());
    const int64_t each = kernels::packed_b_size(out_c_, in_c_, gemm_->nr);
    packed_winograd_ = Tensor::empty({16 * each});
    for (int xi = 0; xi < 16; ++xi) {
      kernels::pack_b_cpu(u.data<float>() + xi * out_c_ * in_c_, out_c_, in_c_, gemm_->nr,
                          packed_winograd_.data<float>() + xi * each);
    }
  }
}

bool FusedConv::uses_winograd(int64_t n, int64_t h, int64_t w) const {
  return packed_winograd_.defined() && kernels::WinogradShape{n, h, w}.tiles() >= kWinogradMinTiles;
}

void FusedConv::run_cpu(const float* x, int64_t n, int64_t h, int64_t w, const float* residual,
                        float* y, InferScratch& scratch, int threads) const {
  if (uses_winograd(n, h, w)) {
    run_winograd(x, n, h, w, residual, y, scratch, threads);
  } else {
    run_direct(x, n, h, w, residual, y, scratch, threads);
  }
}

void FusedConv::run_direct(const float* x, int64_t n, int64_t h, int64_t w, const float* residual,
                           float* y, InferScratch& scratch, int threads) const {
  const kernels::ConvGeometry g{n, h, w, in_c_, kernel_, kernel_, stride_, padding_};
  const int64_t rows = n * g.out_h() * g.out_w(), k = g.patch();
  const int mr = gemm_->mr, nr = gemm_->nr;
  const int64_t panels = kernels::gemm_panels(out_c_, nr);
  const int64_t kblocks = (k + kKBlock - 1) / kKBlock, kb = (k + kblocks - 1) / kblocks;
  // Rows per chunk: A's block of about kChunkBytes, a multiple of MR.
  int64_t chunk = std::max<int64_t>(mr, kChunkBytes / int64_t(sizeof(float)) / kb / mr * mr);
  const bool pointwise = kernel_ == 1 && stride_ == 1 && padding_ == 0;
  // A in place (1x1 stride 1), or too few rows for two chunks a thread: every chunk's A exists
  // before the multiplications, which split the panels too. Otherwise each thread lowers a chunk
  // into its own buffer, while it is in cache multiplies it with every panel, and the chunks are
  // made small enough for every thread to have two. (A 224x224 stem lowered in full first, 7.4
  // MB, was 25% slower than chunk by chunk.)
  const bool shared = pointwise || (rows < 2 * threads * chunk &&
                                    rows * k * int64_t(sizeof(float)) <= kSharedLowerBytes);
  if (!shared) chunk = std::min(chunk, round_up((rows + 2 * threads - 1) / (2 * threads), mr));
  const int64_t chunks = (rows + chunk - 1) / chunk;
  const int64_t groups =
      shared ? std::min(panels, std::max<int64_t>(1, (2 * threads + chunks - 1) / chunks)) : 1;
  const int64_t per_group = (panels + groups - 1) / groups;
  float* lowered_all = shared && !pointwise ? scratch.buffer(1, rows * k) : nullptr;
  const int64_t each = shared ? 1 : chunk * k;
  float* mine_base = scratch.per_thread(threads, each);
  // C rows [r0, r1), panels [p0, p1) from A rows at `a` (row r0), K block by K block.
  auto multiply = [&](const float* a, int64_t r0, int64_t r1, int64_t p0, int64_t p1) {
    for (int64_t k0 = 0; k0 < k; k0 += kb) {
      kernels::GemmCall call;
      call.a = a + k0;
      call.lda = k;
      call.m = r1 - r0;
      call.k = std::min(kb, k - k0);
      call.b = packed_.data<float>() + k0 * nr;
      call.panel_stride = k * nr;
      call.n = out_c_;
      call.p0 = p0;
      call.p1 = p1;
      call.c = y + r0 * out_c_;
      call.ldc = out_c_;
      call.accumulate = k0 > 0;
      if (k0 + kb >= k) {
        call.epilogue.bias = bias_.data<float>();
        call.epilogue.residual = residual ? residual + r0 * out_c_ : nullptr;
        call.epilogue.ldr = out_c_;
        call.epilogue.relu = relu_;
      }
      gemm_->run(call);
    }
  };
#pragma omp parallel num_threads(threads)
  {
    if (shared) {
      if (!pointwise) {
#pragma omp for schedule(static)
        for (int64_t c = 0; c < chunks; ++c) {
          const int64_t r0 = c * chunk, r1 = std::min(rows, r0 + chunk);
          kernels::im2col_rows_cpu(x, lowered_all + r0 * k, g, r0, r1);
        }
      }
      const float* a = pointwise ? x : lowered_all;
#pragma omp for schedule(static) collapse(2)
      for (int64_t c = 0; c < chunks; ++c) {
        for (int64_t grp = 0; grp < groups; ++grp) {
          const int64_t r0 = c * chunk, r1 = std::min(rows, r0 + chunk);
          const int64_t p0 = grp * per_group, p1 = std::min(panels, p0 + per_group);
          if (p0 < p1) multiply(a + r0 * k, r0, r1, p0, p1);
        }
      }
    } else {
      float* mine = mine_base + omp_get_thread_num() * each;
#pragma omp for schedule(static)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t r0 = c * chunk, r1 = std::min(rows, r0 + chunk);
        kernels::im2col_rows_cpu(x, mine, g, r0, r1);
        multiply(mine, r0, r1, 0, panels);
      }
    }
  }
}

void FusedConv::run_winograd(const float* x, int64_t n, int64_t h, int64_t w, const float* residual,
                             float* y, InferScratch& scratch, int threads) const {
  const kernels::WinogradShape s{n, h, w};
  const int64_t tiles = s.tiles(), c = in_c_, k = out_c_;
  const int mr = gemm_->mr;
  const int64_t panels = kernels::gemm_panels(k, gemm_->nr);
  const int64_t u_each = kernels::packed_b_size(k, c, gemm_->nr);
  const float* u = packed_winograd_.data<float>();
  const float* bias = bias_.data<float>();
  // One of the 16 GEMMs, (count, C) x (C, K), panels [p0, p1):
  //   v: (16, stride, C) transformed tiles;  m: (16, stride, K)
  auto multiply = [&](const float* v, int64_t count, int xi, int64_t p0, int64_t p1, float* m,
                      int64_t stride) {
    kernels::GemmCall call;
    call.a = v + xi * stride * c;
    call.lda = c;
    call.m = count;
    call.k = c;
    call.b = u + xi * u_each;
    call.panel_stride = c * gemm_->nr;
    call.n = k;
    call.p0 = p0;
    call.p1 = p1;
    call.c = m + xi * stride * k;
    call.ldc = k;
    gemm_->run(call);
  };
  const int64_t by_cache = kWinogradBlockBytes / int64_t(sizeof(float)) / (16 * (c + k)) / mr * mr;
  const int64_t block = std::max<int64_t>(mr, std::min(by_cache, round_up(tiles, mr)));
  const int64_t blocks = (tiles + block - 1) / block;
  if (blocks >= 2 * threads) {
    // Each thread takes whole blocks: transform, 16 GEMMs, output transform in its cache.
    const int64_t each = 16 * block * (c + k);
    float* base = scratch.per_thread(threads, each);
#pragma omp parallel num_threads(threads)
    {
      float* v = base + omp_get_thread_num() * each;
      float* m = v + 16 * block * c;
#pragma omp for schedule(static)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t t0 = b * block, t1 = std::min(tiles, t0 + block), count = t1 - t0;
        kernels::winograd_input_transform_cpu(x, s, c, t0, t1, v, count);
        for (int xi = 0; xi < 16; ++xi) multiply(v, count, xi, 0, panels, m, count);
        kernels::winograd_output_transform_fused_cpu(m, count, s, k, t0, t1, y, bias, residual,
                                                     relu_);
      }
    }
    return;
  }
  // Few tiles: each step over all of them, split across the threads between barriers.
  float* v = scratch.buffer(1, 16 * tiles * c);
  float* m = scratch.buffer(2, 16 * tiles * k);
  const int64_t step = mr;  // tiles per item of the transforms
  const int64_t items = (tiles + step - 1) / step;
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t t0 = i * step, t1 = std::min(tiles, t0 + step);
      kernels::winograd_input_transform_cpu(x, s, c, t0, t1, v + t0 * c, tiles);
    }
#pragma omp for schedule(static) collapse(2)
    for (int xi = 0; xi < 16; ++xi) {
      for (int64_t p = 0; p < panels; ++p) multiply(v, tiles, xi, p, p + 1, m, tiles);
    }
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; ++i) {
      const int64_t t0 = i * step, t1 = std::min(tiles, t0 + step);
      kernels::winograd_output_transform_fused_cpu(m + t0 * k, tiles, s, k, t0, t1, y, bias,
                                                   residual, relu_);
    }
  }
}

}  // namespace lumen
