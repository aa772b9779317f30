// `lumen neighbors` and `lumen select` from the command line: their files, what they print (the
// recall of an approximate index), the rule that a query is not its own neighbour, selections
// against the library's, and the errors of bad keys and inputs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/io/csv.h"
#include "engine/io/embeddings_csv.h"
#include "engine/search/cosine_index.h"
#include "engine/search/scorers.h"
#include "support/search_cases.h"
#include "support/testing.h"

using namespace lumen;

namespace {

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr together
};

Run lumen_cli(const std::string& args) {
  const std::string command = std::string(LUMEN_CLI_PATH) + " " + args + " 2>&1";
  Run r;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp_path(const std::string& name) {
  return "/tmp/lumen_test_cli_search_" + std::to_string(::getpid()) + "_" + name;
}

// n embeddings of dimension d in 4 clusters, named c<label>/img<i>.png (one name with a comma).
Embeddings make_embeddings(int64_t n, int64_t d, uint64_t seed) {
  Embeddings e;
  e.values = testing::random_rows(n, d, seed, 4, 0.2);
  for (int64_t i = 0; i < n; ++i) {
    e.labels.push_back(i % 4);
    e.filenames.push_back("c" + std::to_string(i % 4) + "/img" + std::to_string(i) +
                          (i == 3 ? ",x.png" : ".png"));
  }
  return e;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  while (read_csv_record(in, fields)) rows.push_back(fields);
  return rows;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void check_fails(const std::string& args, const std::string& message) {
  const Run r = lumen_cli(args);
  INFO("lumen " << args << "\n" << r.out);
  CHECK(r.code == 1);
  CHECK(r.out.find(message) != std::string::npos);
}

}  // namespace

TEST_CASE("lumen neighbors: the index's neighbours, never the query itself") {
  const std::string bank_path = temp_path("bank.csv"), out = temp_path("nn.csv");
  const Embeddings bank = make_embeddings(60, 8, 1);
  save_embeddings_csv(bank_path, bank);
  const Run r = lumen_cli("neighbors device=cpu embeddings=" + bank_path + " k=4 output=" + out);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("60 queries, k=4, against 60 embeddings with exact (cpu)") != std::string::npos);
  const auto rows = read_csv(out);
  REQUIRE(rows.size() == 61);
  CHECK(rows[0] == std::vector<std::string>{"filenames", "neighbor_1", "similarity_1", "neighbor_2",
                                            "similarity_2", "neighbor_3", "similarity_3",
                                            "neighbor_4", "similarity_4"});
  std::vector<int64_t> own(60);
  for (int64_t i = 0; i < 60; ++i) own[size_t(i)] = i;
  const Neighbors expected = CosineIndex(bank.values).search(bank.values, 4, own);
  const std::vector<double> sim = expected.similarities.to_doubles();
  for (int64_t q = 0; q < 60; ++q) {
    const auto& row = rows[size_t(q + 1)];
    REQUIRE(row.size() == 9);
    CHECK(row[0] == bank.filenames[size_t(q)]);  // the quoted name round-trips
    for (int64_t j = 0; j < 4; ++j) {
      CHECK(row[size_t(1 + 2 * j)] != row[0]);
      CHECK(row[size_t(1 + 2 * j)] ==
            bank.filenames[size_t(expected.indices.data<int64_t>()[q * 4 + j])]);
      CHECK(std::stod(row[size_t(2 + 2 * j)]) ==
            doctest::Approx(sim[size_t(q * 4 + j)]).epsilon(1e-6));
    }
  }

  // queries=: a query leaves out the bank row of its own filename; a new name keeps every row.
  Embeddings queries;
  queries.values = Tensor::empty({2, 8});
  queries.values.rows(0, 1).copy_from(bank.values.rows(7, 1));
  queries.values.rows(1, 1).copy_from(bank.values.rows(7, 1));
  queries.filenames = {bank.filenames[7], "new.png"};
  queries.labels = {0, 0};
  const std::string query_path = temp_path("queries.csv");
  save_embeddings_csv(query_path, queries);
  REQUIRE(lumen_cli("neighbors device=cpu embeddings=" + bank_path + " queries=" + query_path +
                    " k=2 output=" + out)
              .code == 0);
  const auto q_rows = read_csv(out);
  REQUIRE(q_rows.size() == 3);
  CHECK(q_rows[1][1] != bank.filenames[7]);
  CHECK(q_rows[2][1] == bank.filenames[7]);
  CHECK(std::stod(q_rows[2][2]) == doctest::Approx(1.0));

  check_fails("neighbors embeddings=" + bank_path + " k=60 output=" + out,
              "k=60 but embeddings=" + bank_path + " has 60 embeddings (a query is not its own");
  check_fails("neighbors embeddings=" + bank_path + " index=annoy", "use one of flat, ivf, hnsw");
  std::remove(bank_path.c_str());
  std::remove(query_path.c_str());
  std::remove(out.c_str());
}

TEST_CASE("lumen neighbors index=ivf|hnsw: FAISS, with the recall against the exact index") {
  const std::string bank_path = temp_path("bank_ann.csv"), out = temp_path("nn_ann.csv");
  Embeddings bank;
  bank.values = testing::random_rows(3000, 16, 2, 30, 0.3, 3);
  for (int64_t i = 0; i < 3000; ++i) {
    bank.filenames.push_back("img" + std::to_string(i) + ".png");
    bank.labels.push_back(0);
  }
  save_embeddings_csv(bank_path, bank);
  for (const std::string index : {"ivf", "hnsw"}) {
    CAPTURE(index);
    const Run r = lumen_cli("neighbors index=" + index + " embeddings=" + bank_path +
                            " k=5 recall_queries=200 output=" + out);
    INFO(r.out);
    if (r.out.find("built without FAISS") != std::string::npos) {
      CHECK(r.code == 1);
      continue;
    }
    REQUIRE(r.code == 0);
    const size_t at = r.out.find("recall@5 against the exact index: ");
    REQUIRE(at != std::string::npos);
    const double recall = std::stod(r.out.substr(at + 34));
    CHECK(recall >= 0.9);
    CHECK(recall <= 1.0);
    CHECK(r.out.find("(200 queries)") != std::string::npos);
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 3001);
    for (size_t q = 1; q < rows.size(); q += 97) {
      for (size_t j = 1; j < rows[q].size(); j += 2) CHECK(rows[q][j] != rows[q][0]);
    }
  }
  std::remove(bank_path.c_str());
  std::remove(out.c_str());
}

TEST_CASE("lumen select: diversity, min_distance, uncertainty, combinations, thresholds") {
  const std::string emb_path = temp_path("select.csv"), out = temp_path("selected.txt");
  const Embeddings e = make_embeddings(200, 6, 3);
  save_embeddings_csv(emb_path, e);
  const std::string base = "select device=cpu embeddings=" + emb_path + " output=" + out + " ";

  const Run div = lumen_cli(base + "strategy=diversity n_samples=10");
  INFO(div.out);
  REQUIRE(div.code == 0);
  CHECK(div.out.find("selected 10 of 200 candidates") != std::string::npos);
  const std::vector<std::string> ten = read_lines(out);
  REQUIRE(ten.size() == 10);
  CHECK(std::set<std::string>(ten.begin(), ten.end()).size() == 10);
  // The four clusters come first: the first four picks have four labels.
  std::set<char> labels;
  for (size_t i = 0; i < 4; ++i) labels.insert(ten[i][1]);
  CHECK(labels.size() == 4);
  REQUIRE(lumen_cli(base + "strategy=diversity n_samples=10").code == 0);
  CHECK(read_lines(out) == ten);  // deterministic
  REQUIRE(lumen_cli(base + "strategy=diversity n_samples=10 seed=2").code == 0);
  CHECK(read_lines(out).front() != ten.front());

  // min_distance alone stops it; no two selected samples are nearer.
  REQUIRE(lumen_cli(base + "strategy=diversity min_distance=0.5").code == 0);
  const std::vector<std::string> spread = read_lines(out);
  CHECK(spread.size() > 4);
  CHECK(spread.size() < 200);
  std::map<std::string, int64_t> row_of;
  for (int64_t i = 0; i < 200; ++i) row_of[e.filenames[size_t(i)]] = i;
  for (size_t a = 0; a < spread.size(); ++a) {
    for (size_t b = 0; b < a; ++b) {
      CHECK(testing::unit_distance(e.values, row_of.at(spread[a]), row_of.at(spread[b])) >=
            0.5 - 1e-5);
    }
  }

  // Predictions: three classes; uncertainty picks the highest entropy first.
  const std::string pred_path = temp_path("predictions.csv");
  std::vector<double> probs;
  {
    std::ofstream p(pred_path);
    p.precision(17);
    p << "filenames,cat,dog,bird\n";
    for (int64_t i = 0; i < 200; ++i) {  // every row its own entropy
      const double a = 0.2 + 0.6 * double((i * 37) % 200) / 200.0, b = (1 - a) * 0.7;
      probs.insert(probs.end(), {a, b, 1 - a - b});
      p << csv_field(e.filenames[size_t(i)]) << "," << a << "," << b << "," << 1 - a - b << "\n";
    }
  }
  const std::vector<double> entropy = uncertainty_scores(probs, 200, 3, UncertaintyScore::entropy);
  std::vector<int64_t> order(200);
  for (int64_t i = 0; i < 200; ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return entropy[size_t(a)] > entropy[size_t(b)]; });
  const Run unc = lumen_cli(base + "strategy=uncertainty scores=" + pred_path + " n_samples=3");
  INFO(unc.out);
  REQUIRE(unc.code == 0);
  const std::vector<std::string> top = read_lines(out);
  REQUIRE(top.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(top[i] == e.filenames[size_t(order[i])]);

  // Combined, with a threshold: every pick passes it.
  const Run both =
      lumen_cli(base + "strategy=diversity,uncertainty strength=1,3 scores=" + pred_path +
                " score=uncertainty_margin threshold=0.5 n_samples=20");
  INFO(both.out);
  REQUIRE(both.code == 0);
  CHECK(both.out.find("diversity^1 * uncertainty_margin^3") != std::string::npos);
  const std::vector<double> margin = uncertainty_scores(probs, 200, 3, UncertaintyScore::margin);
  const std::vector<std::string> picked = read_lines(out);
  REQUIRE(picked.size() == 20);
  for (const std::string& name : picked) CHECK(margin[size_t(row_of.at(name))] >= 0.5);

  check_fails(base + "strategy=diversty n_samples=3", "(did you mean 'diversity'?)");
  check_fails(
      base + "strategy=diversity,uncertainty strength=2 scores=" + pred_path + " n_samples=3",
      "gives 1 number for 2 strategies");
  check_fails(base + "strategy=uncertainty n_samples=3", "pass scores=predictions.csv");
  check_fails(base + "strategy=random", "nothing stops the selection");
  check_fails(base + "strategy=random min_distance=0.2 n_samples=3", "add diversity to strategy=");
  {
    std::ofstream p(pred_path);
    p << "filenames,a,b\n" << e.filenames[0] << ",0.5,0.7\n";
  }
  check_fails(base + "strategy=uncertainty scores=" + pred_path + " n_samples=3", "sum to 1.2");
  {
    std::ofstream p(pred_path);
    p << "filenames,a,b\n" << e.filenames[0] << ",0.5,0.5\n";
  }
  check_fails(base + "strategy=uncertainty scores=" + pred_path + " n_samples=3",
              "has no predictions for 199 of the 200 embeddings");
  const Run help = lumen_cli("select --help");
  CHECK(help.code == 0);
  for (const char* key : {"embeddings", "strategy", "strength", "n_samples", "proportion_samples",
                          "min_distance", "scores", "score", "threshold", "threshold_operation",
                          "seed", "device", "output", "uncertainty_entropy"}) {
    CHECK_MESSAGE(help.out.find(std::string("  ") + key) != std::string::npos, key);
  }
  std::remove(emb_path.c_str());
  std::remove(pred_path.c_str());
  std::remove(out.c_str());
}
