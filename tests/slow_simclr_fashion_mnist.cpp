// SimCLR on a small real labelled set (Fashion-MNIST, from Debian's dataset-fashion-mnist): the
// loss falls and the trained backbone's kNN accuracy beats a randomly initialised one by a clear
// margin. Slow (minutes on 2 CPU cores): label "slow". Without the dataset the suite is skipped
// (exit 77, "skipped" in ctest).
#define DOCTEST_CONFIG_IMPLEMENT
#include "support/testing.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/lumen.h"
#include "support/datasets.h"

using namespace lumen;

TEST_CASE("SimCLR on Fashion-MNIST beats a random backbone in kNN accuracy") {
  const std::string root = testing::fashion_mnist_dir();
  const std::string out = testing::temp_dir("fmnist");
  const std::vector<std::string> model = {"model.name=resnet-9", "model.width=0.25",
                                          "collate.input_size=28", "device=cpu", "seed=1"};
  std::vector<std::string> train_args = model;
  for (std::string a : {"loader.batch_size=128", "trainer.max_epochs=6", "data.limit=2048",
                        "collate.gaussian_blur=0"}) {
    train_args.push_back(a);
  }
  train_args.push_back("input_dir=" + root + "/train-images-idx3-ubyte.gz");
  train_args.push_back("output_dir=" + out);
  const std::string checkpoint = train_embedding_model(train_config(train_args));
  std::vector<double> epoch_loss;
  std::ifstream metrics(out + "/metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("loss")) epoch_loss.push_back(j["loss"].get<double>());
  }
  REQUIRE(epoch_loss.size() == 6);
  MESSAGE("epoch losses: " << epoch_loss[0] << " ... " << epoch_loss[5]);
  CHECK(epoch_loss[5] < epoch_loss[0] - 0.05);

  std::vector<std::string> knn_args = model;
  knn_args.push_back("train_dir=" + root + "/train-images-idx3-ubyte.gz");
  knn_args.push_back("test_dir=" + root + "/t10k-images-idx3-ubyte.gz");
  knn_args.push_back("data.limit=2048");
  const KnnResult random = knn_evaluate(knn_config(knn_args));
  knn_args.push_back("checkpoint=" + checkpoint);
  const KnnResult trained = knn_evaluate(knn_config(knn_args));
  MESSAGE("kNN top-1: trained " << trained.top1 << ", random " << random.top1);
  CHECK(trained.top1 > random.top1 + 0.03);
  std::filesystem::remove_all(out);
}

int main(int argc, char** argv) {
  const std::string images = testing::fashion_mnist_dir() + "/train-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(images)) {
    return testing::skip_suite("Fashion-MNIST not installed (no " + images +
                               "; apt-get install dataset-fashion-mnist)");
  }
  return doctest::Context(argc, argv).run();
}
