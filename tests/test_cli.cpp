// The `lumen` program itself: exit codes, help, errors on stderr that name the bad key or command,
// and a tiny train -> embed -> knn round on a synthetic CIFAR-format file.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/datasets.h"
#include "support/images.h"

namespace {

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `lumen <args>` through the shell; arguments are plain words here (no quoting needed).
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

}  // namespace

TEST_CASE("usage, help and version") {
  Run none = lumen_cli("");
  CHECK(none.code == 2);
  CHECK(none.out.find("usage: lumen <command>") != std::string::npos);
  Run help = lumen_cli("train --help");
  CHECK(help.code == 0);
  for (const char* key : {"input_dir", "optimizer.lr", "criterion.temperature", "collate.cj_prob",
                          "trainer.max_epochs", "default 0.5"}) {
    CHECK_MESSAGE(help.out.find(key) != std::string::npos, key);
  }
  Run version = lumen_cli("version");
  CHECK(version.code == 0);
  CHECK(version.out.find("backends: cpu") != std::string::npos);
}

// `lumen <args>` exits with `code` and says `message`.
void check_fails(const std::string& args, int code, const std::string& message) {
  const Run r = lumen_cli(args);
  INFO("lumen " << args << "\n" << r.out);
  CHECK(r.code == code);
  CHECK(r.out.find(message) != std::string::npos);
}

TEST_CASE("bad commands, keys and values exit 1 or 2 with a message that names them") {
  check_fails("trian", 2, "unknown command 'trian' (did you mean 'train'?)");
  check_fails("train input_dir=x optimizer.wieght_decay=0.1", 1,
              "unknown key 'optimizer.wieght_decay'; did you mean 'optimizer.weight_decay'?");
  check_fails("train input_dir=x optimizer.name=adam", 1, "did you mean 'adamw'");
  check_fails("embed checkpoint", 1, "not of the form key=value");
  check_fails("train device=cpu input_dir=/nonexistent/lumen/images", 1,
              "/nonexistent/lumen/images");
  check_fails("train input_dir=x device=cpu collate.rr_degrees=-30,30", 1, "rr_degrees");
  check_fails("train input_dir=x loader.batch_size=0", 1,
              "loader.batch_size: it must be at least 1");
}

TEST_CASE("train, embed and knn from the command line") {
  const std::string dir = lumen::testing::temp_dir("cli");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  Run train = lumen_cli("train input_dir=" + data + " output_dir=" + dir +
                        "/run device=cpu model.name=resnet-9 model.width=0.125 model.out_dim=16 "
                        "collate.input_size=16 loader.batch_size=16 trainer.max_epochs=1 seed=2");
  INFO(train.out);
  REQUIRE(train.code == 0);
  const std::string checkpoint = dir + "/run/checkpoints/last.safetensors";
  CHECK(train.out.find("checkpoint: " + checkpoint) != std::string::npos);

  Run embed = lumen_cli("embed input_dir=" + data + " checkpoint=" + checkpoint +
                        " device=cpu output=" + dir + "/e.csv");
  INFO(embed.out);
  REQUIRE(embed.code == 0);
  std::ifstream csv(dir + "/e.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header.rfind("filenames,embedding_0,embedding_1,", 0) == 0);
  CHECK(header.find("embedding_63,labels") != std::string::npos);
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  CHECK(rows == 32);

  Run knn = lumen_cli("knn train_dir=" + data + " test_dir=" + data + " checkpoint=" + checkpoint +
                      " device=cpu knn.k=5");
  INFO(knn.out);
  REQUIRE(knn.code == 0);
  // "knn top1 T1 top5 T5": accuracies in [0, 1], top-5 at least top-1, and top-1 above chance
  // (4 balanced classes: 0.25). Every query is in the bank too, so a working kNN finds itself.
  const size_t at = knn.out.find("knn top1 ");
  REQUIRE(at != std::string::npos);
  std::istringstream numbers(knn.out.substr(at + 9));
  double top1 = -1, top5 = -1;
  std::string word;
  numbers >> top1 >> word >> top5;
  REQUIRE(word == "top5");
  CHECK(top1 >= 0.0);
  CHECK(top1 <= 1.0);
  CHECK(top5 >= top1);
  CHECK(top5 <= 1.0);
  CHECK(top1 > 0.25);
  std::filesystem::remove_all(dir);
}

TEST_CASE("data.filenames: train and embed only the listed images of a folder") {
  const std::string dir = lumen::testing::temp_dir("cli_list");
  for (int i = 0; i < 8; ++i) {
    const std::string name = (i % 2 ? "dog/" : "cat/") + std::to_string(i) + ".png";
    lumen::testing::write_file(
        dir + "/images/" + name,
        lumen::testing::encode_png(20, 20, 2, 8, lumen::testing::smooth_rgb(20, 20, i)));
  }
  {
    std::ofstream list(dir + "/list.txt");
    list << "dog/1.png\n cat/0.png \n\ncat/4.png\ndog/5.png\n";
  }
  const std::string data = "input_dir=" + dir + "/images data.filenames=" + dir + "/list.txt";
  Run train = lumen_cli("train " + data + " output_dir=" + dir +
                        "/run device=cpu model.name=resnet-9 model.width=0.125 model.out_dim=8 "
                        "collate.input_size=16 loader.batch_size=4 trainer.max_epochs=1");
  INFO(train.out);
  REQUIRE(train.code == 0);
  Run embed = lumen_cli("embed " + data + " checkpoint=" + dir +
                        "/run/checkpoints/last.safetensors device=cpu output=" + dir + "/e.csv");
  INFO(embed.out);
  REQUIRE(embed.code == 0);
  CHECK(embed.out.find("wrote 4 embeddings") != std::string::npos);
  std::ifstream csv(dir + "/e.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(csv, line);)
    rows.push_back(line.substr(0, line.find(',')) + line.substr(line.rfind(',')));
  CHECK(rows == std::vector<std::string>{"filenames,labels", "cat/0.png,0", "cat/4.png,0",
                                         "dog/1.png,1", "dog/5.png,1"});
  {
    std::ofstream list(dir + "/bad.txt");
    list << "dog/1.png\ndog/9.png\n";
  }
  check_fails("embed input_dir=" + dir + "/images data.filenames=" + dir + "/bad.txt checkpoint=" +
                  dir + "/run/checkpoints/last.safetensors device=cpu output=" + dir + "/f.csv",
              1, "line 2: 'dog/9.png' cannot be found in input_dir");
  check_fails("knn train_dir=x test_dir=y data.filenames=" + dir + "/list.txt", 1,
              "unknown key 'data.filenames'");
  std::filesystem::remove_all(dir);
}
