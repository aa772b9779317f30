// `lumen neighbors`: nearest neighbours of embeddings (api/neighbors.h).
#include <cstdio>

#include "api/neighbors.h"
#include "tools/lumen/commands.h"

namespace lumen::cli {

bool wants_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h" || a == "help") return true;
  }
  return false;
}

int run_neighbors(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::printf(
        "usage: lumen neighbors embeddings=emb.csv [queries=q.csv] k=10 output=neighbors.csv\n\n"
        "The k most similar embeddings (cosine similarity) of every query: of every embedding of\n"
        "the bank when queries= is not given. A query is never its own neighbour: without\n"
        "queries= each leaves out its own row, with queries= the bank row of its own filename.\n"
        "Rows of the output: the query's filename, then neighbor_j,similarity_j, most similar\n"
        "first (ties: the earlier bank row first).\n\nkeys:\n%s",
        Config(neighbors_config_schema()).help().c_str());
    return 0;
  }
  const NeighborsRun run = find_neighbors(neighbors_config(args));
  std::printf(
      "%lld queries, k=%lld, against %lld embeddings with %s: built in %.3f s, searched "
      "in %.3f s (%.0f queries/s)\n",
      (long long)run.queries, (long long)run.k, (long long)run.bank, run.index.c_str(),
      run.build_seconds, run.search_seconds,
      run.search_seconds > 0 ? double(run.queries) / run.search_seconds : 0.0);
  if (run.recall_queries > 0) {
    std::printf("recall@%lld against the exact index: %.4f (%lld queries)\n", (long long)run.k,
                run.recall, (long long)run.recall_queries);
  }
  if (run.missing > 0) {
    std::printf(
        "warning: %lld neighbours were not found (written as empty fields); search more "
        "cells (ivf.nprobe) or candidates (hnsw.ef_search)\n",
        (long long)run.missing);
  }
  return 0;
}

}  // namespace lumen::cli
