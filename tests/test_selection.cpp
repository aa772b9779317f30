// Selection (engine/search/selection.h, kcenter.h): the k-center greedy against a plain greedy in
// double precision from the same first point (on random and clustered data, with constant
// objectives and a negative strength), min_distance, duplicates, thresholds, seeds, the constant
// strategies; lightly's classification scorers (engine/search/scorers.h) against their formulas
// and against lightly 1.3.3's own ScorerClassification (tests/fixtures/selection_scorers,
// made by tools/fixtures/selection_scorers.py).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <algorithm>
#include <cmath>
#include <set>

#include "engine/autograd/tape.h"
#include "engine/io/safetensors.h"
#include "engine/ops/normalize.h"
#include "engine/search/kcenter.h"
#include "engine/search/scorers.h"
#include "engine/search/selection.h"
#include "kernels/philox.cuh"
#include "support/search_cases.h"
#include "support/testing.h"

using namespace lumen;
using testing::random_rows;

namespace {

std::vector<uint32_t> ties(int64_t n, uint64_t seed = 11) {
  std::vector<uint32_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = philox4x32(seed, 0, uint64_t(i)).v[0];
  return t;
}

Tensor unit(const Tensor& x) {
  NoGrad no_grad;
  return l2_normalize_rows(x);
}

// Every pick of Lumen's selection is the reference greedy's best (within rounding where two
// scores are that close), almost every one its very pick, and it stops where the reference does.
testing::GreedyCheck check_greedy(const Tensor& x, const KCenterRequest& r) {
  const std::vector<int64_t> lumen = kcenter_greedy(unit(x), r);
  REQUIRE(!lumen.empty());
  if (r.first >= 0) CHECK(lumen.front() == r.first);
  const testing::GreedyCheck c = testing::check_greedy(
      x, lumen, r.n_samples, r.strength, r.min_distance, r.weight, r.candidate, r.tie);
  CAPTURE(c.steps);
  CAPTURE(c.same);
  CHECK(c.worst_gap <= 1e-5);
  CHECK(c.same >= c.steps * 98 / 100);
  CHECK(c.stop_ok);
  return c;
}

}  // namespace

TEST_CASE("k-center greedy equals a reference greedy from the same first point") {
  for (int64_t clusters : {0, 40}) {
    CAPTURE(clusters);
    // 10000 rows: three CPU tiles, so the lazily updated tiles are exercised.
    const Tensor x = random_rows(10000, 24, 31, clusters, 0.4);
    KCenterRequest r;
    r.n_samples = 150;
    r.tie = ties(10000);
    check_greedy(x, r);
    r.first = 4321;  // a given first point
    check_greedy(x, r);
    // A constant objective (log weights), then a negative strength (every tile updated each step).
    r.weight.resize(10000);
    for (int64_t i = 0; i < 10000; ++i) r.weight[size_t(i)] = 0.5 * std::log(0.5 + (i % 13) / 13.0);
    check_greedy(x, r);
    r.strength = -1;
    r.n_samples = 40;
    check_greedy(x, r);
  }
}

TEST_CASE("k-center greedy: the first point is the tie-key winner; seeds change it") {
  const Tensor x = random_rows(500, 8, 32);
  KCenterRequest r;
  r.n_samples = 3;
  r.tie = ties(500, 1);
  const int64_t expected = std::max_element(r.tie.begin(), r.tie.end()) - r.tie.begin();
  const std::vector<int64_t> a = kcenter_greedy(unit(x), r);
  CHECK(a.front() == expected);
  CHECK(kcenter_greedy(unit(x), r) == a);  // deterministic
  r.tie = ties(500, 2);
  CHECK(kcenter_greedy(unit(x), r).front() != a.front());
}

TEST_CASE("k-center greedy respects min_distance and stops only when nothing else fits") {
  const Tensor x = random_rows(3000, 6, 33, 30, 0.2);
  KCenterRequest r;
  r.n_samples = 3000;
  r.min_distance = 0.35;
  r.tie = ties(3000);
  const std::vector<int64_t> s = kcenter_greedy(unit(x), r);
  REQUIRE(s.size() > 5);
  CHECK(s.size() < 3000);
  double closest = INFINITY;
  for (size_t a = 0; a < s.size(); ++a) {
    for (size_t b = 0; b < a; ++b)
      closest = std::min(closest, testing::unit_distance(x, s[a], s[b]));
  }
  CHECK(closest >= 0.35 - 1e-5);
  // Every point left out is nearer than min_distance to a selected one.
  std::set<int64_t> chosen(s.begin(), s.end());
  for (int64_t i = 0; i < 3000; i += 7) {
    if (chosen.count(i)) continue;
    double nearest = INFINITY;
    for (int64_t c : s) nearest = std::min(nearest, testing::unit_distance(x, i, c));
    CHECK(nearest < 0.35 + 1e-5);
  }
  check_greedy(x, r);
}

TEST_CASE("select_rows: duplicates, thresholds, weights only, random, n_samples limits") {
  // Rows 0, 5 and 9 are the same embedding: diversity selects at most one of them.
  Tensor x = random_rows(12, 4, 34);
  for (int64_t r : {5, 9}) x.rows(r, 1).copy_from(x.rows(0, 1));
  SelectionSpec spec;
  spec.diversity = true;
  spec.n_samples = 12;
  const std::vector<int64_t> all = select_rows(x, spec, Device::cpu());
  CHECK(all.size() == 10);
  CHECK(std::count_if(all.begin(), all.end(),
                      [](int64_t r) { return r == 0 || r == 5 || r == 9; }) == 1);
  // With a weight, the duplicate of highest weight is the one kept.
  spec.weights = {{std::vector<double>(12, 1.0), 1.0}};
  spec.weights[0].values[9] = 2.0;
  const std::vector<int64_t> weighted = select_rows(x, spec, Device::cpu());
  CHECK(std::find(weighted.begin(), weighted.end(), 9) != weighted.end());
  CHECK(weighted.front() == 9);  // the first pick is the best by weight
  // Candidates (thresholds): only they are selected.
  spec.weights.clear();
  spec.candidate = {0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0};
  const std::vector<int64_t> some = select_rows(x, spec, Device::cpu());
  CHECK(std::set<int64_t>(some.begin(), some.end()) == std::set<int64_t>{1, 2, 4, 7, 10});
  // Weights only: by weight, highest first; a negative strength inverts.
  SelectionSpec w;
  w.n_samples = 3;
  w.weights = {{{0.1, 0.9, 0.5, 0.7, 0.0, 0.3, 0.2, 0.8, 0.4, 0.6, 1.0, 0.05}, 1.0}};
  CHECK(select_rows(x, w, Device::cpu()) == std::vector<int64_t>{10, 1, 7});
  w.weights[0].strength = -2;
  CHECK(select_rows(x, w, Device::cpu()) == std::vector<int64_t>{4, 11, 0});
  // Two objectives multiply: 0.9 * 0.1 < 0.5 * 0.5.
  w.weights = {{{0.9, 0.5, 0.1}, 1.0}, {{0.1, 0.5, 0.9}, 1.0}};
  w.n_samples = 1;
  CHECK(select_rows(x.rows(0, 3), w, Device::cpu()) == std::vector<int64_t>{1});
  // random: the rows of the largest random numbers.
  SelectionSpec rnd;
  rnd.n_samples = 4;
  rnd.weights = {{random_objective(12, 5), 1.0}};
  std::vector<int64_t> order(12);
  for (int64_t i = 0; i < 12; ++i) order[size_t(i)] = i;
  const std::vector<double> u = random_objective(12, 5);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return u[size_t(a)] > u[size_t(b)]; });
  CHECK(select_rows(x, rnd, Device::cpu()) ==
        std::vector<int64_t>(order.begin(), order.begin() + 4));
  CHECK(random_objective(12, 5) != random_objective(12, 6));
  // Errors.
  SelectionSpec bad;
  CHECK_THROWS_WITH_AS(select_rows(x, bad, Device::cpu()), doctest::Contains("n_samples = -1"),
                       Error);
  bad.n_samples = 2;
  bad.weights = {{std::vector<double>(12, -1.0), 1.0}};
  CHECK_THROWS_WITH_AS(select_rows(x, bad, Device::cpu()), doctest::Contains(">= 0"), Error);
}

TEST_CASE("uncertainty scores: lightly's formulas, normalised to [0, 1]") {
  // Three classes: least confidence (1 - max) / (1 - 1/3), margin 1 - (p1 - p2), entropy / log2 3.
  const std::vector<double> p{0.7,     0.2,     0.1,     1.0, 0.0, 0.0,
                              1 / 3.0, 1 / 3.0, 1 / 3.0, 0.5, 0.5, 0.0};
  const std::vector<double> lc = uncertainty_scores(p, 4, 3, UncertaintyScore::least_confidence);
  const std::vector<double> mg = uncertainty_scores(p, 4, 3, UncertaintyScore::margin);
  const std::vector<double> en = uncertainty_scores(p, 4, 3, UncertaintyScore::entropy);
  CHECK(lc[0] == doctest::Approx(0.3 / (2.0 / 3.0)));
  CHECK(mg[0] == doctest::Approx(0.5));
  const double h0 = -(0.7 * std::log2(0.7) + 0.2 * std::log2(0.2) + 0.1 * std::log2(0.1));
  CHECK(en[0] == doctest::Approx(h0 / std::log2(3.0)));
  CHECK(lc[1] == 0);  // one-hot: 0 on every score
  CHECK(mg[1] == 0);
  CHECK(en[1] == 0);
  CHECK(lc[2] == doctest::Approx(1));  // uniform: 1
  CHECK(mg[2] == 1);
  CHECK(en[2] == doctest::Approx(1));
  CHECK(mg[3] == 1);  // two equal top classes
  CHECK(en[3] == doctest::Approx(1 / std::log2(3.0)));
  // One column: a binary problem (p, 1 - p).
  const std::vector<double> b = uncertainty_scores({0.9, 0.5}, 2, 1, UncertaintyScore::entropy);
  CHECK(b[0] == doctest::Approx(-(0.9 * std::log2(0.9) + 0.1 * std::log2(0.1))));
  CHECK(b[1] == doctest::Approx(1));
  CHECK(uncertainty_score_from_name("uncertainty_margin") == UncertaintyScore::margin);
  CHECK_THROWS_WITH_AS(uncertainty_score_from_name("margin"),
                       doctest::Contains("uncertainty_least_confidence, uncertainty_margin"),
                       Error);
}

TEST_CASE("uncertainty scores equal lightly 1.3.3's ScorerClassification") {
  const SafetensorsFile f = load_safetensors("fixtures/selection_scorers.safetensors");
  int cases = 0;
  for (const auto& [name, probs] : f.tensors) {
    if (name.rfind("probs.", 0) != 0) continue;
    const std::string id = name.substr(6);
    CAPTURE(id);
    ++cases;
    const int64_t rows = probs.size(0), classes = probs.size(1);
    for (UncertaintyScore s : {UncertaintyScore::least_confidence, UncertaintyScore::margin,
                               UncertaintyScore::entropy}) {
      const std::string key = id + "." + uncertainty_score_name(s);
      CAPTURE(key);
      REQUIRE(f.tensors.count(key));
      const std::vector<double> expected = f.tensors.at(key).to_doubles();
      const std::vector<double> got = uncertainty_scores(probs.to_doubles(), rows, classes, s);
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::fabs(got[i] - expected[i]));
      CHECK(worst <= 1e-12);
    }
  }
  CHECK(cases >= 4);
}
