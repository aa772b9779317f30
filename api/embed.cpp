// embed_images, knn_evaluate and the dataset embedding they share.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "api/datasets.h"
#include "api/embedding.h"
#include "api/lumen.h"
#include "api/model_io.h"
#include "api/train_config.h"

namespace lumen {

Config embed_config(const std::vector<std::string>& args) {
  Config c(embed_config_schema());
  c.parse_args(args);
  return c;
}

Config knn_config(const std::vector<std::string>& args) {
  Config c(knn_config_schema());
  c.parse_args(args);
  return c;
}

Embeddings embed_dataset(const Embedder& embedder, const data::ImageDataset& dataset) {
  Embeddings e;
  e.values = Tensor::empty({dataset.size(), embedder.dim()});
  // Batches of the dataset's pixels, copied (the cache may be a read-only mapping).
  const int64_t batch = 256;
  for (int64_t start = 0; start < dataset.size(); start += batch) {
    const int64_t count = std::min(batch, dataset.size() - start);
    Tensor images = Tensor::empty({count, dataset.height, dataset.width, 3}, DType::u8);
    std::memcpy(images.raw_data(), dataset.image(start), images.nbytes());
    e.values.rows(start, count).copy_from(embedder.embed(images));
  }
  e.labels = dataset.labels;
  e.filenames = dataset.filenames;
  return e;
}

namespace {
data::ImageDataset open_for_embedding(const Config& c, const std::string& path, int input_size,
                                      const std::string& filenames = "") {
  DatasetRequest r = dataset_request(c, path, input_size);
  r.filenames = filenames;
  return open_dataset(r);
}

}  // namespace

void check_embeddings_output(const Config& c) {
  namespace fs = std::filesystem;
  const std::string output = c.get_string("output");
  LUMEN_CHECK(!output.empty(), "output is empty: pass output=<file>.csv, the file to write");
  std::error_code ec;
  LUMEN_CHECK(!fs::is_directory(output, ec) && fs::path(output).has_filename(), "output=", output,
              " is a folder; pass the file to write, e.g. output=",
              (fs::path(output) / "embeddings.csv").string());
  const fs::path target = fs::weakly_canonical(fs::absolute(output), ec);
  LUMEN_CHECK(!ec, "output=", output, ": ", ec.message());
  // The same file, also through another name (a link, "..", a hard link).
  auto same_file = [&](const std::string& other) {
    std::error_code e;
    return !other.empty() && (fs::weakly_canonical(fs::absolute(other), e) == target ||
                              fs::equivalent(other, output, e));
  };
  const std::string checkpoint = c.get_string("checkpoint");
  LUMEN_CHECK(!same_file(checkpoint), "output=", output, " is the checkpoint ", checkpoint,
              ": writing the embeddings would destroy it. Pass another output file");
  const std::string input = c.get_string("input_dir");
  if (!input.empty() && fs::is_directory(input, ec)) {
    const fs::path root = fs::canonical(input, ec);
    const bool inside =
        !ec &&
        std::mismatch(root.begin(), root.end(), target.begin(), target.end()).first == root.end();
    LUMEN_CHECK(!inside, "output=", output, " lies inside input_dir=", input,
                ": writing there would change the dataset (or overwrite one of its files). Pass an "
                "output outside input_dir");
  } else {
    LUMEN_CHECK(!same_file(input), "output=", output, " is input_dir ", input,
                ": writing the embeddings would destroy the dataset. Pass another output file");
  }
  const fs::path folder = target.parent_path();
  LUMEN_CHECK(fs::is_directory(folder, ec), "the folder of output=", output, ", ", folder.string(),
              ", does not exist; create it first");
  // Writable, checked the way the writer will use it: a new file in that folder.
  std::string probe = (folder / ".lumen_output_probe_XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  LUMEN_CHECK(fd >= 0, "cannot write into ", folder.string(), " (for output=", output,
              "): ", std::strerror(errno), "; pass an output in a writable folder");
  ::close(fd);
  ::unlink(probe.c_str());
}

namespace {
Embeddings embed_with(const Config& c, const Backbone* custom) {
  const Embedder embedder(c, custom);
  const data::ImageDataset dataset = open_for_embedding(
      c, c.require("input_dir"), embedder.input_size(), c.get_string("data.filenames"));
  return embed_dataset(embedder, dataset);
}
}  // namespace

Embeddings embed_images(const Config& c) { return embed_with(c, nullptr); }
Embeddings embed_images(const Config& c, const Backbone& backbone) {
  return embed_with(c, &backbone);
}

KnnResult knn_evaluate(const Config& c) {
  const Embedder embedder(c);
  const int size = embedder.input_size();
  const std::string train_dir = c.require("train_dir"), test_dir = c.require("test_dir");
  const data::ImageDataset train_set = open_for_embedding(c, train_dir, size);
  const data::ImageDataset test_set = open_for_embedding(c, test_dir, size);
  const KnnLabels labels =
      knn_labels(train_set, test_set, "train_dir=" + train_dir, "test_dir=" + test_dir);
  const Embeddings bank = embed_dataset(embedder, train_set);
  const Embeddings queries = embed_dataset(embedder, test_set);
  return knn_classify(bank.values, bank.labels, queries.values, labels.test, labels.classes,
                      c.get_int("knn.k"), c.get_float("knn.t"));
}

}  // namespace lumen
