#include "support/search_cases.h"

#include "support/testing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lumen::testing {

Tensor random_rows(int64_t n, int64_t d, uint64_t seed, int64_t clusters, double spread,
                   int64_t noise_dims) {
  Tensor x = Tensor::normal({n, d}, seed);
  if (clusters <= 0) return x;
  const std::vector<float> centres = Tensor::normal({clusters, d}, seed + 1000).to_floats();
  float* v = x.data<float>();
  const int64_t noisy = noise_dims > 0 ? noise_dims : d;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % clusters;
    for (int64_t j = 0; j < d; ++j) {
      v[i * d + j] = centres[size_t(c * d + j)] + (j < noisy ? float(spread) * v[i * d + j] : 0.f);
    }
  }
  return x;
}

std::vector<double> unit_rows_f64(const Tensor& x) {
  std::vector<double> v = x.to(Device::cpu()).to_doubles();
  const int64_t n = x.size(0), d = x.size(1);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += v[size_t(i * d + j)] * v[size_t(i * d + j)];
    const double norm = std::max(std::sqrt(s), 1e-12);
    for (int64_t j = 0; j < d; ++j) v[size_t(i * d + j)] /= norm;
  }
  return v;
}

ReferenceNeighbors reference_neighbors(const Tensor& bank, const Tensor& queries, int64_t k,
                                       const std::vector<int64_t>& exclude) {
  const std::vector<double> b = unit_rows_f64(bank), q = unit_rows_f64(queries);
  const int64_t n = bank.size(0), nq = queries.size(0), d = bank.size(1);
  ReferenceNeighbors out;
  for (int64_t r = 0; r < nq; ++r) {
    std::vector<double> sim(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < d; ++j) s += q[size_t(r * d + j)] * b[size_t(i * d + j)];
      sim[size_t(i)] = s;
    }
    std::vector<int64_t> order;
    for (int64_t i = 0; i < n; ++i) {
      if (exclude.empty() || exclude[size_t(r)] != i) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return sim[size_t(x)] > sim[size_t(y)]; });
    out.all.insert(out.all.end(), sim.begin(), sim.end());
    for (int64_t j = 0; j < k; ++j) {
      out.index.push_back(order[size_t(j)]);
      out.similarity.push_back(sim[size_t(order[size_t(j)])]);
    }
  }
  return out;
}

void check_neighbors(const Neighbors& nn, const ReferenceNeighbors& ref, int64_t nq, int64_t n,
                     int64_t k, double tol, const std::vector<int64_t>& exclude) {
  REQUIRE(nn.indices.shape() == Shape{nq, k});
  const int64_t* index = nn.indices.data<int64_t>();
  const std::vector<double> sim = nn.similarities.to_doubles();
  int64_t same = 0;
  for (int64_t q = 0; q < nq; ++q) {
    std::vector<int64_t> rows(index + q * k, index + (q + 1) * k);
    for (int64_t j = 0; j < k; ++j) {
      const size_t at = size_t(q * k + j);
      const int64_t row = index[at];
      REQUIRE(row >= 0);
      REQUIRE(row < n);
      same += row == ref.index[at];
      CHECK(std::fabs(ref.all[size_t(q * n + row)] - ref.similarity[at]) <= 100 * tol);
      CHECK(std::fabs(sim[at] - ref.all[size_t(q * n + row)]) <= tol);
      if (j > 0) CHECK(sim[at] <= sim[at - 1]);
      if (!exclude.empty()) CHECK(row != exclude[size_t(q)]);
    }
    std::sort(rows.begin(), rows.end());
    CHECK(std::adjacent_find(rows.begin(), rows.end()) == rows.end());
  }
  CHECK(same >= nq * k * 95 / 100);
}

GreedyCheck check_greedy(const Tensor& rows, const std::vector<int64_t>& selected,
                         int64_t n_samples, double strength, double min_distance,
                         const std::vector<double>& weight, const std::vector<uint8_t>& candidate,
                         const std::vector<uint32_t>& tie) {
  const std::vector<double> x = unit_rows_f64(rows);
  const int64_t n = rows.size(0), d = rows.size(1);
  const bool plain = weight.empty() && strength > 0;
  std::vector<double> nearest(static_cast<size_t>(n), INFINITY);
  std::vector<uint8_t> open = candidate.empty() ? std::vector<uint8_t>(size_t(n), 1) : candidate;
  GreedyCheck out;
  for (size_t s = 0; s <= selected.size(); ++s) {
    if (s > 0) {  // take the previous pick
      const int64_t c = selected[s - 1];
      open[size_t(c)] = 0;
      for (int64_t i = 0; i < n; ++i) {
        double sum = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double diff = x[size_t(i * d + j)] - x[size_t(c * d + j)];
          sum += diff * diff;
        }
        nearest[size_t(i)] = std::min(nearest[size_t(i)], std::sqrt(sum));
      }
    }
    if (s == 0) continue;  // the first pick is the caller's
    auto score = [&](int64_t i) {
      const double m = nearest[size_t(i)];
      if (!open[size_t(i)] || !(m > 0 && m >= min_distance)) return -HUGE_VAL;
      return plain ? m : strength * std::log(m) + (weight.empty() ? 0.0 : weight[size_t(i)]);
    };
    int64_t best = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (score(i) == -HUGE_VAL) continue;
      if (best < 0 || score(i) > score(best) ||
          (score(i) == score(best) && (tie[size_t(i)] > tie[size_t(best)] ||
                                       (tie[size_t(i)] == tie[size_t(best)] && i < best)))) {
        best = i;
      }
    }
    if (s == selected.size()) {  // after the last pick
      out.stop_ok = int64_t(selected.size()) == n_samples || best < 0;
      break;
    }
    const int64_t pick = selected[s];
    ++out.steps;
    REQUIRE_MESSAGE(best >= 0, "pick " << s + 1 << " made where no candidate is left");
    REQUIRE_MESSAGE(score(pick) != -HUGE_VAL,
                    "pick " << s + 1 << " (row " << pick << ") is not a candidate");
    if (pick == best) {
      ++out.same;
    } else {
      out.worst_gap = std::max(out.worst_gap, score(best) - score(pick));
    }
  }
  return out;
}

double unit_distance(const Tensor& x, int64_t a, int64_t b) {
  const std::vector<double> ra = unit_rows_f64(x.rows(a, 1)), rb = unit_rows_f64(x.rows(b, 1));
  double s = 0;
  for (size_t j = 0; j < ra.size(); ++j) s += (ra[j] - rb[j]) * (ra[j] - rb[j]);
  return std::sqrt(s);
}

}  // namespace lumen::testing
