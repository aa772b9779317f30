// kNN classification (lightly's knn_predict) and lightly's embeddings CSV.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/eval/knn.h"
#include "engine/io/embeddings_csv.h"

using namespace lumen;

TEST_CASE("kNN votes with exp(sim / t) weights") {
  // Bank: three class-0 points near +x, one class-1 point exactly at the query's direction.
  Tensor bank = Tensor::from_vector(std::vector<float>{1, 0.1f, 1, -0.1f, 1, 0, 0, 1}, {4, 2});
  std::vector<int64_t> labels{0, 0, 0, 1};
  Tensor query = Tensor::from_vector(std::vector<float>{0.05f, 1}, {1, 2});
  // k = 1: the nearest neighbour (class 1) wins.
  CHECK(knn_classify(bank, labels, query, {1}, 2, 1, 0.1).top1 == 1.0);
  // k = 4 with a high temperature: the three class-0 votes outweigh the single close one.
  KnnResult r = knn_classify(bank, labels, query, {1}, 2, 4, 100.0);
  CHECK(r.top1 == 0.0);
  CHECK(r.top5 == 1.0);
  CHECK(r.ranked[0] == std::vector<int64_t>{0, 1});
  // ... and with a low temperature the close neighbour dominates again.
  CHECK(knn_classify(bank, labels, query, {1}, 2, 4, 0.01).top1 == 1.0);
  CHECK_THROWS_WITH_AS(knn_classify(bank, {0, 0, 0, 5}, query, {1}, 2),
                       doctest::Contains("outside [0, 2)"), Error);
}

TEST_CASE("kNN separates two clusters of random points") {
  const int n = 200;
  std::vector<float> bank, queries;
  std::vector<int64_t> bank_labels, query_labels;
  Tensor noise = Tensor::normal({2 * n, 8}, 3, 0, 0.3);
  const std::vector<double> z = noise.to_doubles();
  for (int i = 0; i < 2 * n; ++i) {
    const int label = i % 2;
    for (int j = 0; j < 8; ++j) {
      const float centre = (j == label) ? 1.0f : 0.0f;
      (i < n ? bank : queries).push_back(centre + float(z[size_t(i * 8 + j)]));
    }
    (i < n ? bank_labels : query_labels).push_back(label);
  }
  KnnResult r = knn_classify(Tensor::from_vector(bank, {n, 8}), bank_labels,
                             Tensor::from_vector(queries, {n, 8}), query_labels, 2, 20, 0.1);
  CHECK(r.top1 > 0.9);
}

TEST_CASE("embeddings CSV: lightly's header, quoting, round trip") {
  const std::string path = "/tmp/lumen_test_embeddings_" + std::to_string(::getpid()) + ".csv";
  Embeddings e;
  e.values = Tensor::from_vector(std::vector<float>{0.5f, -1.25f, 1e-8f, 3}, {2, 2});
  e.labels = {0, 3};
  e.filenames = {"class_a/img 1.png", "odd,\"name\".jpg"};
  save_embeddings_csv(path, e);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() ==
        "filenames,embedding_0,embedding_1,labels\n"
        "class_a/img 1.png,0.5,-1.25,0\n"
        "\"odd,\"\"name\"\".jpg\",9.99999994e-09,3,3\n");
  Embeddings back = load_embeddings_csv(path);
  CHECK(back.filenames == e.filenames);
  CHECK(back.labels == e.labels);
  CHECK(back.values.to_doubles() == e.values.to_doubles());
  std::remove(path.c_str());
}

TEST_CASE("embeddings CSV: CRLF, blank lines, quoted line breaks, and the line of a bad record") {
  const std::string path = "/tmp/lumen_test_embeddings_rows_" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "filenames,embedding_0,embedding_1,labels\r\n"
        << "a.png,1,2,0\r\n"
        << "\r\n"
        << "\"two\nlines.png\",3.5,-4e-3,1\n"
        << "c.png,0x1p-2,inf,2\n"
        << "\n";
  }
  const Embeddings e = load_embeddings_csv(path);
  CHECK(e.filenames == std::vector<std::string>{"a.png", "two\nlines.png", "c.png"});
  CHECK(e.labels == std::vector<int64_t>{0, 1, 2});
  CHECK(e.values.to_doubles() == std::vector<double>{1, 2, 3.5, double(-4e-3f), 0.25, INFINITY});
  {
    std::ofstream out(path);
    out << "filenames,embedding_0,labels\nx.png,1,0\n\ny.png,oops,1\n";
  }
  CHECK_THROWS_WITH_AS(load_embeddings_csv(path),
                       doctest::Contains(":4: embedding_0 is not a number"), Error);
  {
    std::ofstream out(path);
    out << "filenames,embedding_0,labels\nx.png,1,0\ny.png,2\n";
  }
  CHECK_THROWS_WITH_AS(load_embeddings_csv(path), doctest::Contains(":3: expected 3 fields, got 2"),
                       Error);
  std::remove(path.c_str());
}
