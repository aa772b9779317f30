// safetensors files: an 8-byte little-endian header length, a JSON header mapping each tensor name
// to {dtype, shape, data_offsets} (plus an optional "__metadata__" object of strings), then the
// raw little-endian data. Malformed, truncated or oversized headers, and float tensors holding inf
// or NaN (weights of a diverged run), are rejected with an error that names the file and tensor;
// so is a path that is not a regular file (a directory, a FIFO, a device), before it is opened.
#pragma once

#include <map>
#include <string>

#include "engine/core/tensor.h"

namespace lumen {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors
  std::map<std::string, std::string> metadata;
};

// Headers larger than this are rejected (the format's reference implementation uses 100 MB).
constexpr uint64_t kSafetensorsMaxHeader = 100ull << 20;

SafetensorsFile load_safetensors(const std::string& path);

// load_safetensors for weights that will be used (checkpoints to resume, embed or start from):
// a tensor holding inf or NaN is an error naming the file and the tensor.
SafetensorsFile load_weights(const std::string& path);

// Writes atomically: a temporary file next to `path`, fsynced, then renamed over it, so a crash
// never leaves a half-written file under `path`. Tensors on the GPU are copied to the host.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace lumen
