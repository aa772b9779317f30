#include "engine/search/scorers.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "kernels/common.h"

namespace lumen {

namespace {

// The raw score of one prediction p (classes >= 2), before nan_to_num and normalisation.
double raw_score(const double* p, int64_t classes, UncertaintyScore score) {
  switch (score) {
    case UncertaintyScore::least_confidence: {
      double largest = -INFINITY;  // np.max: NaN if any value is NaN
      for (int64_t c = 0; c < classes; ++c)
        largest = std::isnan(p[c]) || std::isnan(largest) ? NAN : std::max(largest, p[c]);
      return 1.0 - largest;
    }
    case UncertaintyScore::margin: {
      // np.partition(p, -2)[-1] - [-2]: the largest minus the second largest (NaN compares false
      // and propagates through the subtraction, then nan_to_num makes it 0).
      double first = -INFINITY, second = -INFINITY;
      bool nan = false;
      for (int64_t c = 0; c < classes; ++c) {
        nan |= std::isnan(p[c]);
        if (p[c] > first) {
          second = first;
          first = p[c];
        } else if (p[c] > second) {
          second = p[c];
        }
      }
      return nan ? NAN : 1.0 - (first - second);
    }
    case UncertaintyScore::entropy: {
      double sum = 0.0;
      for (int64_t c = 0; c < classes; ++c) {
        // np.log2(p, out=zeros, where=p > 0): log2 where p > 0, else 0; then p * that.
        sum += p[c] * (p[c] > 0 ? std::log2(p[c]) : 0.0);
      }
      return -1.0 * sum;
    }
  }
  return 0.0;
}

double nan_to_num(double x) {
  if (std::isnan(x)) return 0.0;
  if (std::isinf(x)) return x > 0 ? DBL_MAX : -DBL_MAX;
  return x;
}

// np.interp(x, [lo, hi], [0, 1]) with lo < hi.
double interp_0_1(double x, double lo, double hi) {
  if (x <= lo) return 0.0;
  if (x >= hi) return 1.0;
  const double slope = 1.0 / (hi - lo);
  return slope * (x - lo) + 0.0;
}

}  // namespace

const char* uncertainty_score_name(UncertaintyScore score) {
  switch (score) {
    case UncertaintyScore::least_confidence:
      return "uncertainty_least_confidence";
    case UncertaintyScore::margin:
      return "uncertainty_margin";
    case UncertaintyScore::entropy:
      return "uncertainty_entropy";
  }
  return "";
}

UncertaintyScore uncertainty_score_from_name(const std::string& name) {
  for (UncertaintyScore s :
       {UncertaintyScore::least_confidence, UncertaintyScore::margin, UncertaintyScore::entropy}) {
    if (name == uncertainty_score_name(s)) return s;
  }
  LUMEN_FAIL("unknown uncertainty score '", name,
             "': uncertainty_least_confidence, uncertainty_margin or uncertainty_entropy");
}

std::vector<double> uncertainty_scores(const std::vector<double>& probabilities, int64_t rows,
                                       int64_t classes, UncertaintyScore score) {
  LUMEN_CHECK(classes >= 1 && int64_t(probabilities.size()) == rows * classes,
              "uncertainty_scores: ", probabilities.size(), " probabilities for ", rows,
              " rows of ", classes, " classes");
  // One column: the probability of the first class of a binary problem.
  const int64_t c = classes == 1 ? 2 : classes;
  std::vector<double> row(static_cast<size_t>(c));
  std::vector<double> very_sure(static_cast<size_t>(c), 0.0),
      very_unsure(size_t(c), 1.0 / double(c));
  very_sure[0] = 1.0;
  const double lo = nan_to_num(raw_score(very_sure.data(), c, score));
  const double hi = nan_to_num(raw_score(very_unsure.data(), c, score));
  std::vector<double> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const double* p = probabilities.data() + r * classes;
    if (classes == 1) {
      row[0] = p[0];
      row[1] = 1.0 - p[0];
      p = row.data();
    }
    out[size_t(r)] = interp_0_1(nan_to_num(raw_score(p, c, score)), lo, hi);
  }
  return out;
}

}  // namespace lumen
