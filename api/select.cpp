#include "api/select.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "api/model_io.h"
#include "engine/io/csv.h"
#include "engine/io/embeddings_csv.h"
#include "engine/search/scorers.h"
#include "engine/search/selection.h"

namespace lumen {

namespace {
using K = ConfigKind;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    out.push_back(a == std::string::npos ? "" : item.substr(a, b - a + 1));
  }
  return out;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  FILE* out = std::fopen(temp.c_str(), "w");
  LUMEN_CHECK(out, "cannot write '", temp, "': ", std::strerror(errno),
              "; check that the folder exists and is writable");
  for (const std::string& line : lines) {
    std::fputs(line.c_str(), out);
    std::fputc('\n', out);
  }
  const bool ok = std::fflush(out) == 0 && !std::ferror(out);
  const std::string reason = std::strerror(errno);
  std::fclose(out);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    LUMEN_FAIL("writing '", path, "' failed: ", reason, " (disk full or folder missing?)");
  }
}

bool passes(double score, double threshold, const std::string& op) {
  if (op == "bigger") return score > threshold;
  if (op == "bigger_equal") return score >= threshold;
  if (op == "smaller") return score < threshold;
  return score <= threshold;  // smaller_equal
}

}  // namespace

std::vector<ConfigKey> select_config_schema() {
  return {
      {"embeddings", K::path, "",
       "the samples to choose from: lightly's embeddings CSV (filenames,embedding_*,labels)"},
      {"strategy", K::text, "diversity",
       "diversity, uncertainty or random, or several comma separated (diversity,uncertainty): "
       "each strategy's objective is raised to its strength and the product is maximised, one "
       "sample at a time"},
      {"strength", K::text, "",
       "one number per strategy, comma separated (default 1 each; lightly's strength): the "
       "exponent of its objective, negative to invert it"},
      {"n_samples",
       K::integer,
       "-1",
       "how many to select (lightly's n_samples; -1: as many as the other stopping conditions "
       "allow)",
       {},
       -1},
      {"proportion_samples",
       K::number,
       "0",
       "or this fraction of the embeddings (lightly's proportion_samples; 0: not used)",
       {},
       0},
      {"min_distance",
       K::number,
       "0",
       "diversity's stopping condition (lightly's stopping_condition_minimum_distance): no two "
       "selected samples nearer than this (Euclidean distance of L2-normalised embeddings, 0 to "
       "2; 0: none)",
       {},
       0},
      {"scores", K::path, "",
       "predictions CSV for uncertainty and threshold: a header, then filename and class "
       "probabilities per row"},
      {"score",
       K::choice,
       "uncertainty_entropy",
       "the active-learning score of the predictions (lightly's classification scorers, in [0, "
       "1], 1 = most uncertain)",
       {"uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy"}},
      {"threshold", K::number, "",
       "lightly's THRESHOLD strategy: only samples whose score passes threshold_operation are "
       "candidates (default: no threshold)"},
      {"threshold_operation",
       K::choice,
       "bigger_equal",
       "how a score passes the threshold",
       {"bigger", "bigger_equal", "smaller", "smaller_equal"}},
      {"seed",
       K::integer,
       "1",
       "seed of strategy=random and of the tie keys (with diversity alone: the first sample)",
       {},
       0},
      {"device", K::choice, "auto", "where diversity runs", {"auto", "cpu", "cuda"}},
      {"output", K::path, "selected.txt",
       "file to write: one filename per line, in selection order"},
  };
}

Config select_config(const std::vector<std::string>& args) {
  Config c(select_config_schema());
  c.parse_args(args);
  return c;
}

Predictions read_predictions(const std::string& path, const std::vector<std::string>& filenames) {
  std::ifstream in(path);
  LUMEN_CHECK(in, "cannot open scores=", path, ": ", std::strerror(errno));
  std::vector<std::string> fields;
  LUMEN_CHECK(read_csv_record(in, fields) && fields.size() >= 2, "scores=", path,
              " is not a predictions CSV: its header must name the filename column and at least "
              "one class (filenames,class_0,class_1,...)");
  Predictions p;
  p.classes = int64_t(fields.size()) - 1;
  std::map<std::string, std::vector<double>> rows;
  int64_t line = 1;
  while (read_csv_record(in, fields)) {
    ++line;
    if (fields.size() == 1 && fields[0].empty()) continue;
    LUMEN_CHECK(int64_t(fields.size()) == p.classes + 1, path, ":", line, ": expected ",
                p.classes + 1, " fields (filename and ", p.classes, " probabilities), got ",
                fields.size());
    std::vector<double> probs;
    double sum = 0;
    for (int64_t c = 0; c < p.classes; ++c) {
      char* end = nullptr;
      const std::string& f = fields[size_t(c + 1)];
      const double v = std::strtod(f.c_str(), &end);
      LUMEN_CHECK(!f.empty() && end && *end == '\0' && std::isfinite(v), path, ":", line,
                  ": probability ", c, " ('", f, "') is not a finite number");
      LUMEN_CHECK(v >= -1e-6 && v <= 1 + 1e-6, path, ":", line, ": probability ", c, " is ", v,
                  ", outside [0, 1]; pass probabilities (the softmax of the logits)");
      probs.push_back(v);
      sum += v;
    }
    LUMEN_CHECK(p.classes == 1 || std::fabs(sum - 1) <= 1e-3, path, ":", line,
                ": the probabilities sum to ", sum,
                ", not 1; pass probabilities (the softmax of the logits)");
    LUMEN_CHECK(rows.emplace(fields[0], std::move(probs)).second, path, ":", line, ": '", fields[0],
                "' has a second row");
  }
  std::vector<std::string> missing;
  size_t found = 0;
  p.probabilities.reserve(filenames.size() * size_t(p.classes));
  for (const std::string& name : filenames) {
    const auto it = rows.find(name);
    if (it == rows.end()) {
      missing.push_back(name);
      continue;
    }
    ++found;
    p.probabilities.insert(p.probabilities.end(), it->second.begin(), it->second.end());
  }
  if (!missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) names += " '" + missing[i] + "'";
    LUMEN_FAIL("scores=", path, " has no predictions for ", missing.size(), " of the ",
               filenames.size(), " embeddings:", names, missing.size() > 5 ? " ..." : "",
               "; every embedding needs a row");
  }
  p.extra = int64_t(rows.size()) - int64_t(found);
  return p;
}

SelectRun select_samples(const Config& c) {
  const std::string output = c.require("output");
  std::vector<std::string> strategies = split_list(c.get_string("strategy"));
  bool diversity = false, uncertainty = false, random = false;
  for (const std::string& s : strategies) {
    const bool known = s == "diversity" || s == "uncertainty" || s == "random";
    const std::string guess = nearest_name(s, {"diversity", "uncertainty", "random"});
    LUMEN_CHECK(known, "strategy=", c.get_string("strategy"), ": unknown strategy '", s, "'",
                guess.empty() ? "" : " (did you mean '" + guess + "'?)",
                "; use diversity, uncertainty or random, comma separated");
    bool& seen = s == "diversity" ? diversity : s == "uncertainty" ? uncertainty : random;
    LUMEN_CHECK(!seen, "strategy=", c.get_string("strategy"), " names ", s, " twice");
    seen = true;
  }
  std::vector<double> strengths(strategies.size(), 1.0);
  if (!c.get_string("strength").empty()) {
    const std::vector<std::string> given = split_list(c.get_string("strength"));
    LUMEN_CHECK(given.size() == strategies.size(), "strength=", c.get_string("strength"), " gives ",
                given.size(), " number", given.size() == 1 ? "" : "s", " for ", strategies.size(),
                " strateg", strategies.size() == 1 ? "y" : "ies",
                " (strategy=", c.get_string("strategy"), "); give one per strategy, in order");
    for (size_t i = 0; i < given.size(); ++i) {
      char* end = nullptr;
      strengths[i] = std::strtod(given[i].c_str(), &end);
      LUMEN_CHECK(!given[i].empty() && end && *end == '\0' && std::isfinite(strengths[i]) &&
                      std::fabs(strengths[i]) <= 1e9,
                  "strength=", c.get_string("strength"), ": '", given[i],
                  "' is not a number in [-1e9, 1e9]");
    }
  }
  const bool threshold = c.is_set("threshold");
  LUMEN_CHECK(
      !(uncertainty || threshold) || c.is_set("scores"),
      uncertainty ? "strategy=uncertainty" : "threshold=",
      " needs the predictions: pass scores=predictions.csv (filename, class probabilities)");
  LUMEN_CHECK(c.get_float("min_distance") == 0 || diversity,
              "min_distance is diversity's stopping condition; add diversity to strategy=");
  const double proportion = c.get_float("proportion_samples");
  LUMEN_CHECK(proportion <= 1, "proportion_samples=", proportion, " must be in [0, 1]");
  LUMEN_CHECK(c.get_int("n_samples") == -1 || proportion == 0,
              "give n_samples or proportion_samples, not both");

  const Embeddings e = load_embeddings_csv(c.require("embeddings"));
  const int64_t n = e.values.size(0);
  SelectionSpec spec;
  spec.seed = uint64_t(c.get_int("seed"));
  spec.n_samples =
      proportion > 0 ? int64_t(std::floor(proportion * double(n))) : c.get_int("n_samples");
  LUMEN_CHECK(spec.n_samples != 0, "proportion_samples=", proportion, " of ", n,
              " embeddings selects none; raise it");
  LUMEN_CHECK(spec.n_samples > 0 || (diversity && c.get_float("min_distance") > 0),
              "nothing stops the selection: give n_samples (or proportion_samples), or "
              "min_distance with strategy=diversity");
  SelectRun run;
  run.samples = n;
  std::vector<double> scores;
  if (uncertainty || threshold) {
    const Predictions p = read_predictions(c.require("scores"), e.filenames);
    scores = uncertainty_scores(p.probabilities, n, p.classes,
                                uncertainty_score_from_name(c.get_string("score")));
    run.extra_scores = p.extra;
  }
  if (threshold) {
    spec.candidate.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      spec.candidate[size_t(i)] =
          passes(scores[size_t(i)], c.get_float("threshold"), c.get_string("threshold_operation"));
    }
  }
  for (size_t s = 0; s < strategies.size(); ++s) {
    const std::string& name = strategies[s];
    run.strategies += (s ? " * " : "") + (name == "uncertainty" ? c.get_string("score") : name) +
                      "^" + detail::concat(strengths[s]);
    if (name == "diversity") {
      spec.diversity = true;
      spec.diversity_strength = strengths[s];
      spec.min_distance = c.get_float("min_distance");
    } else if (name == "uncertainty") {
      spec.weights.push_back({scores, strengths[s]});
    } else {
      spec.weights.push_back({random_objective(n, spec.seed), strengths[s]});
    }
  }
  run.candidates = 0;
  for (int64_t i = 0; i < n; ++i)
    run.candidates += spec.candidate.empty() || spec.candidate[size_t(i)];
  const Device device = diversity ? device_from_config(c) : Device::cpu();
  run.device = device.str();
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int64_t> rows = select_rows(e.values, spec, device);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> lines;
  for (int64_t r : rows) {
    const std::string& name = e.filenames[size_t(r)];
    LUMEN_CHECK(name.find_first_of("\n\r") == std::string::npos, "the selected filename '", name,
                "' holds a line break, so it cannot be written one per line");
    lines.push_back(name);
  }
  write_lines(output, lines);
  run.selected = int64_t(rows.size());
  return run;
}

}  // namespace lumen
