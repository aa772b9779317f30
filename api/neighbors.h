// `lumen neighbors`: the k nearest neighbours of embeddings (lightly's CSV) by cosine similarity,
// exact (index=flat: engine/search/cosine_index.h, on the CPU or a GPU) or approximate through
// FAISS (index=ivf|hnsw: engine/search/approx_index.h), whose recall against the exact index is
// measured on a sample of the queries.
//
// A query from the bank is never its own neighbour: without queries= the queries are the bank and
// each leaves out its own row; with queries= each leaves out the bank row of the same filename.
#pragma once

#include <string>
#include <vector>

#include "api/config.h"

namespace lumen {

std::vector<ConfigKey> neighbors_config_schema();
Config neighbors_config(const std::vector<std::string>& args = {});

struct NeighborsRun {
  int64_t bank = 0, queries = 0, k = 0;
  std::string index;  // what searched, e.g. "exact (cpu)" or "FAISS HNSW-Flat M=32 ..."
  double build_seconds = 0, search_seconds = 0;
  int64_t recall_queries = 0;  // queries the recall was measured on (0: not measured)
  double recall = 0;           // recall@k against the exact index
  int64_t missing = 0;         // neighbours an approximate index did not find (empty fields)
};

// Searches and writes `output` (atomically): a header filenames,neighbor_1,similarity_1,...,
// then one row per query: its filename, then its k neighbours' filenames and cosine similarities,
// most similar first.
NeighborsRun find_neighbors(const Config& config);

}  // namespace lumen
