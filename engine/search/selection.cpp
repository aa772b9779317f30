#include "engine/search/selection.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "engine/autograd/tape.h"
#include "engine/ops/normalize.h"
#include "engine/search/cosine_index.h"
#include "engine/search/kcenter.h"
#include "kernels/kcenter.cuh"
#include "kernels/philox.cuh"

namespace lumen {

namespace {

// Philox streams of the selection's draws.
constexpr uint64_t kTieStream = 0x5E1EC7;
constexpr uint64_t kRandomStream = 0x5E1EC8;

// Per sample, sum of strength * log(value) over the constant objectives (0 when there are none).
// value^0 is 1 (also for 0); an objective pulling to +inf and another to -inf rank the sample last.
std::vector<double> log_weights(const std::vector<WeightObjective>& weights, int64_t n) {
  std::vector<double> w(static_cast<size_t>(n), 0.0);
  for (size_t o = 0; o < weights.size(); ++o) {
    const WeightObjective& obj = weights[o];
    LUMEN_CHECK(int64_t(obj.values.size()) == n, "selection: objective ", o + 1, " has ",
                obj.values.size(), " values for ", n, " samples");
    LUMEN_CHECK(std::isfinite(obj.strength), "selection: objective ", o + 1,
                " has a strength that is not finite");
    for (int64_t i = 0; i < n; ++i) {
      const double v = obj.values[size_t(i)];
      LUMEN_CHECK(std::isfinite(v) && v >= 0, "selection: objective ", o + 1, " of sample ", i,
                  " is ", v, "; objectives must be finite and >= 0");
      if (obj.strength != 0) w[size_t(i)] += obj.strength * std::log(v);
    }
  }
  for (double& x : w) x = std::isnan(x) ? -INFINITY : x;
  return w;
}

std::vector<uint32_t> tie_keys(int64_t n, uint64_t seed) {
  std::vector<uint32_t> tie(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tie[size_t(i)] = philox4x32(seed, kTieStream, uint64_t(i)).v[0];
  return tie;
}

// Among identical embeddings only the one a selection would reach first stays a candidate (the
// best by weight, then tie key, then row): once one is selected the others are at distance 0.
void drop_duplicates(const Tensor& x, const std::vector<double>& weight,
                     const std::vector<uint32_t>& tie, std::vector<uint8_t>& candidate) {
  const int64_t n = x.size(0), d = x.size(1);
  const size_t row_bytes = size_t(d) * dtype_size(x.dtype());
  const auto* bytes = static_cast<const unsigned char*>(x.raw_data());
  std::unordered_map<uint64_t, std::vector<int64_t>> groups;  // FNV-1a of the row -> rows
  for (int64_t i = 0; i < n; ++i) {
    if (!candidate[size_t(i)]) continue;
    uint64_t h = 1469598103934665603ull;
    for (size_t b = 0; b < row_bytes; ++b)
      h = (h ^ bytes[size_t(i) * row_bytes + b]) * 1099511628211ull;
    groups[h].push_back(i);
  }
  for (auto& [hash, rows] : groups) {
    if (rows.size() < 2) continue;
    std::vector<uint8_t> done(rows.size(), 0);
    for (size_t a = 0; a < rows.size(); ++a) {
      if (done[a]) continue;
      int64_t keep = rows[a];
      std::vector<int64_t> same{rows[a]};
      for (size_t b = a + 1; b < rows.size(); ++b) {
        if (done[b] || std::memcmp(bytes + size_t(rows[a]) * row_bytes,
                                   bytes + size_t(rows[b]) * row_bytes, row_bytes) != 0) {
          continue;
        }
        done[b] = 1;
        same.push_back(rows[b]);
        const kernels::KCenterKey kb{weight[size_t(rows[b])], tie[size_t(rows[b])], rows[b]};
        const kernels::KCenterKey kk{weight[size_t(keep)], tie[size_t(keep)], keep};
        if (kernels::kcenter_better(kb, kk)) keep = rows[b];
      }
      for (int64_t r : same) candidate[size_t(r)] = r == keep;
    }
  }
}

}  // namespace

std::vector<double> random_objective(int64_t n, uint64_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Philox4 r = philox4x32(seed, kRandomStream, uint64_t(i));
    v[size_t(i)] = uints_to_unit_double(r.v[0], r.v[1]);
  }
  return v;
}

std::vector<int64_t> select_rows(const Tensor& embeddings, const SelectionSpec& spec,
                                 Device device) {
  check_defined(embeddings, "select_rows");
  LUMEN_CHECK(embeddings.ndim() == 2 && dtype_is_float(embeddings.dtype()) && !embeddings.is_cuda(),
              "select_rows: embeddings must be (N, D) float on the CPU, got ", embeddings.str());
  const int64_t n = embeddings.size(0);
  LUMEN_CHECK(spec.candidate.empty() || int64_t(spec.candidate.size()) == n,
              "select_rows: ", spec.candidate.size(), " candidate flags for ", n, " samples");
  LUMEN_CHECK(
      spec.n_samples >= 1 || (spec.n_samples == -1 && spec.diversity && spec.min_distance > 0),
      "select_rows: n_samples = ", spec.n_samples,
      "; give n_samples >= 1, or -1 with diversity and a min_distance > 0 to stop it");
  LUMEN_CHECK(std::isfinite(spec.diversity_strength) && std::isfinite(spec.min_distance) &&
                  spec.min_distance >= 0,
              "select_rows: the diversity strength must be finite and min_distance >= 0");
  const std::vector<double> weight = log_weights(spec.weights, n);
  const std::vector<uint32_t> tie = tie_keys(n, spec.seed);
  std::vector<uint8_t> candidate =
      spec.candidate.empty() ? std::vector<uint8_t>(size_t(n), 1) : spec.candidate;
  const int64_t limit = spec.n_samples == -1 ? n : std::min(spec.n_samples, n);

  if (!spec.diversity) {  // constant objectives only: the best `limit` by score
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < n; ++i) {
      if (candidate[size_t(i)]) rows.push_back(i);
    }
    auto better = [&](int64_t a, int64_t b) {
      return kernels::kcenter_better({weight[size_t(a)], tie[size_t(a)], a},
                                     {weight[size_t(b)], tie[size_t(b)], b});
    };
    const size_t keep = std::min(rows.size(), size_t(limit));
    std::partial_sort(rows.begin(), rows.begin() + long(keep), rows.end(), better);
    rows.resize(keep);
    return rows;
  }
  if (n == 0) return {};
  check_finite_rows(embeddings, "the embeddings'");
  NoGrad no_grad;
  const Tensor x = embeddings.to(DType::f32);
  drop_duplicates(x, weight, tie, candidate);
  KCenterRequest r;
  r.n_samples = limit;
  r.strength = spec.diversity_strength;
  r.min_distance = spec.min_distance;
  if (!spec.weights.empty()) r.weight = weight;
  r.candidate = std::move(candidate);
  r.tie = tie;
  return kcenter_greedy(l2_normalize_rows(x.to(device)), r);
}

}  // namespace lumen
