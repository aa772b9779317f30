// Embeddings as lightly's CSV: a header `filenames,embedding_0,...,embedding_{D-1},labels`, then
// one row per image in dataset order. Filenames that contain commas, quotes or newlines are quoted
// as RFC 4180 (and Python's csv module) expect.
#pragma once

#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace lumen {

struct Embeddings {
  Tensor values;  // (N, D) f32 on the CPU
  std::vector<int64_t> labels;
  std::vector<std::string> filenames;
};

// Written atomically (temporary file, then rename).
void save_embeddings_csv(const std::string& path, const Embeddings& embeddings);
Embeddings load_embeddings_csv(const std::string& path);

}  // namespace lumen
