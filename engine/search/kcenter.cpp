#include "engine/search/kcenter.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "kernels/kcenter.h"

namespace lumen {

namespace {

using kernels::KCenterKey;
using kernels::KCenterObjective;

// A tile's bound before it was ever brought up to date: above every real candidate.
KCenterKey unknown_bound(int64_t begin) { return KCenterKey{INFINITY, UINT32_MAX, begin}; }

// The first point: given, or the best candidate by its constant objectives and tie key alone.
int64_t first_point(const KCenterRequest& r, const std::vector<uint8_t>& candidate) {
  if (r.first >= 0) return r.first;
  KCenterKey best = kernels::kcenter_none();
  for (size_t i = 0; i < candidate.size(); ++i) {
    if (!candidate[i]) continue;
    const KCenterKey key{r.weight.empty() ? 0.0 : r.weight[i], r.tie[i], int64_t(i)};
    if (kernels::kcenter_better(key, best)) best = key;
  }
  return best.index;
}

struct Tile {
  int64_t begin, count;
  int64_t done;     // centres its distances take into account
  KCenterKey best;  // its best candidate then: a bound on its best now
};

std::vector<int64_t> kcenter_cpu(const Tensor& rows, const KCenterRequest& r,
                                 const KCenterObjective& objective,
                                 std::vector<uint8_t> candidate) {
  const int64_t n = rows.size(0), d = rows.size(1);
  const float* x = rows.data<float>();
  std::vector<float> norms(static_cast<size_t>(n)), distance(static_cast<size_t>(n), INFINITY);
  kernels::kcenter_norms_cpu(x, n, d, norms.data());
  const double* weight = r.weight.empty() ? nullptr : r.weight.data();

  std::vector<int64_t> selected;
  std::vector<float> centres, centre_norms;  // (selected, d) rows of the selected points; norms
  auto select = [&](int64_t c) {
    selected.push_back(c);
    candidate[size_t(c)] = 0;
    centres.insert(centres.end(), x + c * d, x + (c + 1) * d);
    centre_norms.push_back(norms[size_t(c)]);
  };
  const int64_t first = first_point(r, candidate);
  if (first < 0) return selected;
  select(first);

  std::vector<Tile> tiles;
  for (int64_t b = 0; b < n; b += kKCenterTile) {
    tiles.push_back({b, std::min(kKCenterTile, n - b), 0, unknown_bound(b)});
  }
  // Centres enter the GEMM in chunks, so one update's dot products stay small.
  constexpr int64_t kChunk = 256;
  std::vector<float> dots(size_t(kKCenterTile * kChunk));
  auto rank = [&](Tile& t, int64_t m) {
    return kernels::kcenter_update_cpu(dots.data(), centre_norms.data() + t.done, m, t.begin,
                                       t.count, norms.data(), distance.data(), candidate.data(),
                                       weight, r.tie.data(), objective);
  };
  auto update = [&](Tile& t) {
    const int64_t total = int64_t(selected.size());
    while (t.done < total) {
      const int64_t m = std::min(kChunk, total - t.done);
      // dots (count, m) = x[tile] (count, d) @ centres[done : done + m]^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(t.count), int(m), int(d), 1.0f,
                  x + t.begin * d, int(d), centres.data() + t.done * d, int(d), 0.0f, dots.data(),
                  int(m));
      t.best = rank(t, m);
      t.done += m;
    }
  };
  // Scores fall as centres are added unless the strength is negative: then a tile's kept best
  // bounds its best now, and only the tile on top needs to be up to date.
  const bool bounds_hold = r.strength >= 0;
  while (int64_t(selected.size()) < r.n_samples) {
    const int64_t total = int64_t(selected.size());
    if (!bounds_hold) {
      for (Tile& t : tiles) update(t);
    }
    Tile* top = nullptr;
    for (;;) {
      top = nullptr;
      for (Tile& t : tiles) {
        if (kernels::kcenter_better(t.best, top ? top->best : kernels::kcenter_none())) top = &t;
      }
      if (top == nullptr || top->done == total) break;
      update(*top);
    }
    if (top == nullptr) break;  // no candidate left
    select(top->best.index);
    top->best = rank(*top, 0);  // its next best, from the distances it has
  }
  return selected;
}

std::vector<int64_t> kcenter_cuda(const Tensor& rows, const KCenterRequest& r,
                                  const KCenterObjective& objective,
                                  std::vector<uint8_t> candidate) {
  const int64_t n = rows.size(0);
  [[maybe_unused]] const int64_t d = rows.size(1);  // used by the CUDA calls only
  const Device device = rows.device();
  Tensor norms = Tensor::empty_on({n}, DType::f32, rows);
  LUMEN_ON_CUDA(
      kernels::kcenter_norms_cuda(rows.data<float>(), n, d, norms.data<float>(), stream_of(rows)));
  Tensor distance = Tensor::full({n}, INFINITY, DType::f32, device);
  Tensor selected_host = Tensor::full({r.n_samples}, -1, DType::i64);
  int64_t step = 0;
  if (r.first >= 0) {
    selected_host.data<int64_t>()[0] = r.first;
    candidate[size_t(r.first)] = 0;
    step = 1;
  }
  Tensor flags = Tensor::empty({n}, DType::u8);
  std::copy(candidate.begin(), candidate.end(), flags.data<uint8_t>());
  flags = flags.to(device);
  Tensor ties = Tensor::empty({n}, DType::i32);
  std::copy(r.tie.begin(), r.tie.end(), reinterpret_cast<uint32_t*>(ties.data<int32_t>()));
  ties = ties.to(device);
  Tensor weight;
  if (!r.weight.empty()) weight = Tensor::from_vector(r.weight, {n}, DType::f64).to(device);
  Tensor selected = selected_host.to(device);
  const int64_t key_bytes = int64_t(sizeof(KCenterKey)) * kernels::kcenter_step_blocks();
  Tensor partial = Tensor::empty({key_bytes}, DType::u8, device);
  // Steps are launched without waiting; every 64 steps one value comes back to see whether the
  // selection has stopped (no candidate left).
  constexpr int64_t kCheckEvery = 64;
  for (; step < r.n_samples; ++step) {
    LUMEN_ON_CUDA(kernels::kcenter_step_cuda(
        rows.data<float>(), norms.data<float>(), n, d, distance.data<float>(),
        flags.data<uint8_t>(), weight.defined() ? weight.data<double>() : nullptr,
        reinterpret_cast<const uint32_t*>(ties.data<int32_t>()), objective, step,
        selected.data<int64_t>(), reinterpret_cast<KCenterKey*>(partial.data<uint8_t>()),
        stream_of(rows)));
    if ((step + 1) % kCheckEvery == 0 && selected.rows(step, 1).to(Device::cpu()).item() < 0) break;
  }
  const Tensor picks = selected.to(Device::cpu());
  const int64_t* p = picks.data<int64_t>();
  std::vector<int64_t> out;
  for (int64_t i = 0; i < r.n_samples && p[i] >= 0; ++i) out.push_back(p[i]);
  return out;
}

}  // namespace

std::vector<int64_t> kcenter_greedy(const Tensor& unit_rows, const KCenterRequest& r) {
  check_defined(unit_rows, "kcenter_greedy");
  LUMEN_CHECK(unit_rows.ndim() == 2 && unit_rows.dtype() == DType::f32 && unit_rows.size(1) > 0,
              "kcenter_greedy: rows must be (N, D) f32 with D > 0, got ", unit_rows.str());
  const int64_t n = unit_rows.size(0);
  LUMEN_CHECK(r.n_samples >= 1, "kcenter_greedy: n_samples = ", r.n_samples, " must be >= 1");
  LUMEN_CHECK(r.weight.empty() || int64_t(r.weight.size()) == n,
              "kcenter_greedy: ", r.weight.size(), " weights for ", n, " points");
  LUMEN_CHECK(r.candidate.empty() || int64_t(r.candidate.size()) == n,
              "kcenter_greedy: ", r.candidate.size(), " candidate flags for ", n, " points");
  LUMEN_CHECK(int64_t(r.tie.size()) == n, "kcenter_greedy: ", r.tie.size(), " tie keys for ", n,
              " points");
  LUMEN_CHECK(std::isfinite(r.strength) && std::isfinite(r.min_distance),
              "kcenter_greedy: strength and min_distance must be finite");
  for (double w : r.weight) LUMEN_CHECK(!std::isnan(w), "kcenter_greedy: a weight is NaN");
  std::vector<uint8_t> candidate =
      r.candidate.empty() ? std::vector<uint8_t>(size_t(n), 1) : r.candidate;
  LUMEN_CHECK(r.first < n && (r.first < 0 || candidate[size_t(r.first)]),
              "kcenter_greedy: first point ", r.first, " is not a candidate of the ", n);
  if (n == 0) return {};
  const KCenterObjective objective{r.strength, r.min_distance, r.weight.empty() && r.strength > 0};
  if (unit_rows.is_cuda()) return kcenter_cuda(unit_rows, r, objective, std::move(candidate));
  return kcenter_cpu(unit_rows, r, objective, std::move(candidate));
}

}  // namespace lumen
