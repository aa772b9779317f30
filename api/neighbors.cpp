#include "api/neighbors.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "api/model_io.h"
#include "engine/io/csv.h"
#include "engine/io/embeddings_csv.h"
#include "engine/search/approx_index.h"
#include "engine/search/cosine_index.h"

namespace lumen {

namespace {
using K = ConfigKind;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// For each query, the bank row it must not be matched with (see neighbors.h), or -1.
std::vector<int64_t> own_rows(const Embeddings& bank, const Embeddings* queries,
                              const std::string& bank_path) {
  const int64_t n = bank.values.size(0);
  std::vector<int64_t> own;
  if (queries == nullptr) {
    for (int64_t i = 0; i < n; ++i) own.push_back(i);
    return own;
  }
  std::map<std::string, int64_t> row_of;
  for (int64_t i = 0; i < n; ++i) {
    const auto [it, fresh] = row_of.emplace(bank.filenames[size_t(i)], i);
    LUMEN_CHECK(fresh, "embeddings=", bank_path, " names '", it->first, "' twice (rows ",
                it->second + 1, " and ", i + 1, "), so a query of that name cannot leave out its ",
                "own row; give each embedding one row");
  }
  for (const std::string& name : queries->filenames) {
    const auto it = row_of.find(name);
    own.push_back(it == row_of.end() ? -1 : it->second);
  }
  return own;
}

void write_neighbors_csv(const std::string& path, const Embeddings& bank,
                         const std::vector<std::string>& query_names, const Neighbors& nn) {
  const int64_t nq = nn.indices.size(0), k = nn.indices.size(1);
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  FILE* out = std::fopen(temp.c_str(), "w");
  LUMEN_CHECK(out, "cannot write '", temp, "': ", std::strerror(errno),
              "; check that the folder exists and is writable");
  std::fputs("filenames", out);
  for (int64_t j = 1; j <= k; ++j) {
    std::fprintf(out, ",neighbor_%lld,similarity_%lld", (long long)j, (long long)j);
  }
  std::fputc('\n', out);
  const int64_t* index = nn.indices.data<int64_t>();
  const std::vector<double> sim = nn.similarities.to_doubles();
  for (int64_t q = 0; q < nq; ++q) {
    std::fputs(csv_field(query_names[size_t(q)]).c_str(), out);
    for (int64_t j = 0; j < k; ++j) {
      const int64_t row = index[q * k + j];
      if (row < 0) {
        std::fputs(",,", out);
        continue;
      }
      std::fprintf(out, ",%s,%.7g", csv_field(bank.filenames[size_t(row)]).c_str(),
                   sim[size_t(q * k + j)]);
    }
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

// The rows `rows` of x (on the CPU), e.g. the queries of the recall sample.
Tensor sample_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  Tensor out = Tensor::empty({int64_t(rows.size()), x.size(1)}, x.dtype());
  for (size_t i = 0; i < rows.size(); ++i) out.rows(int64_t(i), 1).copy_from(x.rows(rows[i], 1));
  return out;
}

}  // namespace

std::vector<ConfigKey> neighbors_config_schema() {
  return {
      {"embeddings", K::path, "",
       "the bank: lightly's embeddings CSV (filenames,embedding_*,labels)"},
      {"queries", K::path, "",
       "embeddings CSV of the queries (default: the bank itself; a query never gets the bank row "
       "of its own filename)"},
      {"k", K::integer, "10", "neighbours per query", {}, 1},
      {"output", K::path, "neighbors.csv",
       "CSV to write: filenames, then neighbor_j,similarity_j for j = 1..k, most similar first"},
      {"index",
       K::choice,
       "flat",
       "flat: exact (GEMM + top-k, CPU or GPU); ivf or hnsw: approximate through FAISS (CPU), with "
       "its recall against the exact index printed",
       {"flat", "ivf", "hnsw"}},
      {"device", K::choice, "auto", "where index=flat searches", {"auto", "cpu", "cuda"}},
      {"ivf.nlist",
       K::integer,
       "0",
       "IVF cells (k-means centres; 0: 4 sqrt(N), at most N / 39)",
       {},
       0},
      {"ivf.nprobe", K::integer, "16", "IVF cells searched per query", {}, 1},
      {"hnsw.m", K::integer, "32", "HNSW links per node", {}, 2},
      {"hnsw.ef_construction", K::integer, "40", "HNSW candidates kept while building", {}, 1},
      {"hnsw.ef_search", K::integer, "64", "HNSW candidates kept while searching", {}, 1},
      {"recall_queries",
       K::integer,
       "1000",
       "queries (evenly spread) on which index=ivf|hnsw is checked against the exact index (0: "
       "none)",
       {},
       0},
  };
}

Config neighbors_config(const std::vector<std::string>& args) {
  Config c(neighbors_config_schema());
  c.parse_args(args);
  return c;
}

NeighborsRun find_neighbors(const Config& c) {
  const std::string bank_path = c.require("embeddings"), output = c.require("output");
  const std::string index_kind = c.get_string("index");
  ApproxOptions approx;
  approx.kind = index_kind == "ivf" ? ApproxKind::ivf : ApproxKind::hnsw;
  approx.nlist = c.get_int("ivf.nlist");
  approx.nprobe = c.get_int("ivf.nprobe");
  approx.m = c.get_int("hnsw.m");
  approx.ef_construction = c.get_int("hnsw.ef_construction");
  approx.ef_search = c.get_int("hnsw.ef_search");
  if (index_kind != "flat") {
    LUMEN_CHECK(faiss_available(), "index=", index_kind,
                " needs FAISS, and this Lumen was built without FAISS: use index=flat (exact), or "
                "install libfaiss-dev (tools/setup.sh) and rebuild");
  }
  const Device device = device_from_config(c);

  const Embeddings bank = load_embeddings_csv(bank_path);
  Embeddings query_set;
  const bool own_queries = c.is_set("queries");
  if (own_queries) query_set = load_embeddings_csv(c.require("queries"));
  const Embeddings& queries = own_queries ? query_set : bank;
  LUMEN_CHECK(bank.values.size(0) > 0, "embeddings=", bank_path, " holds no embeddings");
  LUMEN_CHECK(queries.values.size(1) == bank.values.size(1), "queries=", c.get_string("queries"),
              " has ", queries.values.size(1), "-dimensional embeddings but embeddings=", bank_path,
              " has ", bank.values.size(1), "; embed both with the same model");
  const std::vector<int64_t> own = own_rows(bank, own_queries ? &query_set : nullptr, bank_path);
  const int64_t n = bank.values.size(0), k = c.get_int("k");
  const bool own_rows_left_out =
      std::any_of(own.begin(), own.end(), [](int64_t r) { return r >= 0; });
  LUMEN_CHECK(k <= n - (own_rows_left_out ? 1 : 0), "k=", k, " but embeddings=", bank_path, " has ",
              n, " embedding", n == 1 ? "" : "s",
              own_rows_left_out ? " (a query is not its own neighbour)" : "", "; lower k");

  NeighborsRun run;
  run.bank = n;
  run.queries = queries.values.size(0);
  run.k = k;
  auto start = std::chrono::steady_clock::now();
  Neighbors nn;
  if (index_kind == "flat") {
    const CosineIndex index(bank.values.to(device));
    run.build_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    nn = index.search(queries.values, k, own);
    run.search_seconds = seconds_since(start);
    run.index = "exact (" + device.str() + ")";
  } else {
    const ApproxIndex index(bank.values, approx);
    run.build_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    nn = index.search(queries.values, k, own);
    run.search_seconds = seconds_since(start);
    run.index = index.describe();
    const int64_t r = std::min(c.get_int("recall_queries"), run.queries);
    if (r > 0) {
      std::vector<int64_t> rows, rows_own;
      for (int64_t i = 0; i < r; ++i) {
        rows.push_back(i * run.queries / r);
        rows_own.push_back(own[size_t(rows.back())]);
      }
      const Neighbors exact = CosineIndex(bank.values.to(device))
                                  .search(sample_rows(queries.values, rows), k, rows_own);
      Neighbors found;
      found.indices = sample_rows(nn.indices, rows);
      found.similarities = sample_rows(nn.similarities, rows);
      run.recall_queries = r;
      run.recall = recall_at_k(found, exact);
    }
  }
  const int64_t* ix = nn.indices.data<int64_t>();
  for (int64_t i = 0; i < nn.indices.numel(); ++i) run.missing += ix[i] < 0;
  write_neighbors_csv(output, bank, queries.filenames, nn);
  return run;
}

}  // namespace lumen
