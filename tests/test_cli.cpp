// The `lumen` program itself: exit codes, help, errors on stderr that name the bad key or command,
// and a tiny train -> embed -> knn round on a synthetic CIFAR-format file.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "engine/io/safetensors.h"
#include "support/datasets.h"
#include "support/images.h"

namespace {

struct Run {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `lumen <args>` through the shell; arguments are plain words here (no quoting needed).
// timeout_s > 0: killed after that long (exit code 124), for a run that might hang.
Run lumen_cli(const std::string& args, int timeout_s = 0) {
  const std::string command = (timeout_s > 0 ? "timeout " + std::to_string(timeout_s) + " " : "") +
                              std::string(LUMEN_CLI_PATH) + " " + args + " 2>&1";
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
  check_fails("train input_dir=x optimizer.name=adan", 1, "did you mean 'adam'");
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

// The arguments of a tiny CPU training run on `data` into `output_dir`.
std::string tiny_train(const std::string& data, const std::string& output_dir) {
  return "train input_dir=" + data + " output_dir=" + output_dir +
         " device=cpu model.name=resnet-9 model.width=0.125 model.out_dim=16 "
         "collate.input_size=16 loader.batch_size=16 seed=2 trainer.max_epochs=";
}

TEST_CASE("embed refuses a checkpoint holding inf, naming the file and the tensor") {
  const std::string dir = lumen::testing::temp_dir("cli_inf");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const Run train = lumen_cli(tiny_train(data, dir + "/run") + "1");
  INFO(train.out);
  REQUIRE(train.code == 0);
  lumen::SafetensorsFile ckpt = lumen::load_safetensors(dir + "/run/checkpoints/last.safetensors");
  // As a diverged run leaves it.
  ckpt.tensors.at("backbone.bn1.running_var").data<float>()[0] = INFINITY;
  const std::string bad = dir + "/bad.safetensors";
  lumen::save_safetensors(bad, ckpt.tensors, ckpt.metadata);
  check_fails(
      "embed input_dir=" + data + " checkpoint=" + bad + " device=cpu output=" + dir + "/e.csv", 1,
      bad + ": tensor 'backbone.bn1.running_var' holds inf or NaN values");
  CHECK_FALSE(std::filesystem::exists(dir + "/e.csv"));
  std::filesystem::remove_all(dir);
}

// `lumen <args>` started in the background, its output going to `log`; stopped (SIGKILL) and
// reaped when the object goes, unless finish() has reaped it already.
class Background {
 public:
  Background(const std::string& args, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string command =
          "exec " + std::string(LUMEN_CLI_PATH) + " " + args + " >" + log + " 2>&1";
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      finish();
    }
  }
  pid_t pid() const { return pid_; }
  // Waits for the program to end; its exit code, or -1 when a signal ended it.
  int finish() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// Whether output_dir/.lock names `pid` as its holder within a minute.
bool holds_lock(const std::string& output_dir, pid_t pid) {
  for (int i = 0; i < 600; ++i) {
    std::ifstream lock(output_dir + "/.lock");
    long holder = 0;
    if (lock >> holder && holder == pid) return true;
    usleep(100000);
  }
  return false;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("two runs in one output_dir: the second fails at once, naming the folder and the pid") {
  const std::string dir = lumen::testing::temp_dir("cli_lock");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const std::string run = dir + "/run";
  Background first(tiny_train(data, run) + "100000", dir + "/first.log");  // runs until stopped
  REQUIRE(first.pid() > 0);
  REQUIRE_MESSAGE(holds_lock(run, first.pid()), read_text(dir + "/first.log"));
  check_fails(tiny_train(data, run) + "1", 1,
              "output_dir '" + run + "' is in use by another Lumen run (pid " +
                  std::to_string(first.pid()) + ")");
  check_fails(tiny_train(data, run) + "1 resume=true", 1, "is in use by another Lumen run");
  kill(first.pid(), SIGTERM);
  const int code = first.finish();
  const std::string log = read_text(dir + "/first.log");
  INFO(log);
  CHECK(code == 130);  // interrupted, with a checkpoint to resume from
  CHECK(std::filesystem::exists(run + "/checkpoints/last.safetensors"));
  // The interruption names the last step done as the progress line does ("epoch E/N step S/M",
  // from 1), and the resume names the same step.
  const std::string said = "interrupted by signal 15 after ";
  const size_t at = log.find(said), end = log.find("; checkpoint saved", at);
  REQUIRE(end != std::string::npos);
  const std::string step = log.substr(at + said.size(), end - at - said.size());
  long epoch = 0, epochs = 0, in_epoch = 0, per_epoch = 0;
  REQUIRE(std::sscanf(step.c_str(), "epoch %ld/%ld step %ld/%ld", &epoch, &epochs, &in_epoch,
                      &per_epoch) == 4);
  CHECK(epochs == 100000);
  CHECK(per_epoch == 2);
  const long done = (epoch - 1) * per_epoch + in_epoch;
  const Run resumed = lumen_cli(tiny_train(data, run) +
                                "100000 resume=true trainer.max_steps=" + std::to_string(done + 1));
  INFO(resumed.out);
  CHECK(resumed.code == 0);
  CHECK(resumed.out.find("resuming from " + run + "/checkpoints/last.safetensors after " + step +
                         "\n") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a new run in an earlier run's output_dir is refused; overwrite=true starts afresh") {
  const std::string dir = lumen::testing::temp_dir("cli_overwrite");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const std::string run = dir + "/run";
  REQUIRE(lumen_cli(tiny_train(data, run) + "2").code == 0);
  check_fails(tiny_train(data, run) + "1", 1,
              "output_dir '" + run + "' holds an earlier run (checkpoints/");
  check_fails(tiny_train(data, run) + "1", 1,
              "Continue it with resume=true, start the new run in another output_dir, or pass "
              "overwrite=true");
  std::ifstream old_metrics(run + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(old_metrics, line);) ++lines;
  CHECK(lines == 2);
  const Run fresh = lumen_cli(tiny_train(data, run) + "1 overwrite=true");
  INFO(fresh.out);
  CHECK(fresh.code == 0);
  std::ifstream new_metrics(run + "/metrics.jsonl");
  lines = 0;
  for (std::string line; std::getline(new_metrics, line);) ++lines;
  CHECK(lines == 1);
  // The overwriting run resumes like any other (overwrite may differ on resume).
  const Run resumed = lumen_cli(tiny_train(data, run) + "2 resume=true");
  INFO(resumed.out);
  CHECK(resumed.code == 0);
  check_fails(tiny_train(data, run) + "3 resume=true overwrite=true", 1, "pass only one of them");
  std::filesystem::remove_all(dir);
}

TEST_CASE("embed refuses, before any work, an output it must not or cannot write") {
  namespace fs = std::filesystem;
  const std::string dir = lumen::testing::temp_dir("cli_embed_output");
  const std::string data_dir = dir + "/cifar";
  fs::create_directories(data_dir);
  const std::string data =
      lumen::testing::write_cifar_batch(data_dir + "/data_batch_1.bin", 32, 4, 2);
  REQUIRE(lumen_cli(tiny_train(data, dir + "/run") + "1").code == 0);
  const std::string checkpoint = dir + "/run/checkpoints/last.safetensors";
  const std::string saved = read_text(checkpoint);
  const std::string embed = "embed device=cpu checkpoint=" + checkpoint + " input_dir=";
  // Its own checkpoint, also through another spelling of the path.
  check_fails(embed + data + " output=" + checkpoint, 1,
              "output=" + checkpoint + " is the checkpoint");
  check_fails(
      embed + data + " output=" + dir + "/run/./checkpoints/../checkpoints/last.safetensors", 1,
      "is the checkpoint");
  CHECK(read_text(checkpoint) == saved);
  // input_dir (a file) itself, and anything inside input_dir (a folder).
  check_fails(embed + data + " output=" + data, 1, "is input_dir");
  check_fails(embed + data_dir + " output=" + data, 1, "lies inside input_dir=" + data_dir);
  check_fails(embed + data_dir + " output=" + data_dir + "/embeddings.csv", 1,
              "lies inside input_dir");
  CHECK(fs::file_size(data) == 32 * 3073);
  CHECK_FALSE(fs::exists(data_dir + "/embeddings.csv"));
  // Empty, a folder, a missing folder, a folder where no file can be created. The checkpoint does
  // not exist here: the output is checked first, before anything is loaded.
  const std::string nothing =
      "embed device=cpu checkpoint=" + dir + "/none.safetensors input_dir=" + data + " output=";
  check_fails(nothing, 1, "output= is empty");
  check_fails(nothing + dir, 1, "output=" + dir + " is a folder");
  check_fails(nothing + dir + "/missing/e.csv", 1, "/missing, does not exist; create it first");
  std::string locked = dir + "/read_only";
  fs::create_directories(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  if (geteuid() == 0) locked = "/proc";  // permissions do not stop root; /proc takes no new files
  check_fails(nothing + locked + "/e.csv", 1, "cannot write into " + locked);
  fs::permissions(dir + "/read_only", fs::perms::owner_all);
  // A good output still works.
  const Run ok = lumen_cli(embed + data + " output=" + dir + "/e.csv");
  INFO(ok.out);
  CHECK(ok.code == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a checkpoint that is a FIFO, a device or a directory is refused without being opened") {
  namespace fs = std::filesystem;
  const std::string dir = lumen::testing::temp_dir("cli_fifo");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const std::string fifo = dir + "/weights.safetensors";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const std::string embed = "embed device=cpu input_dir=" + data + " output=" + dir + "/e.csv";
  // Opening a FIFO for reading waits for a writer: a hang, unless the file is refused first.
  for (const std::string& command :
       {embed + " checkpoint=" + fifo,
        "knn device=cpu train_dir=" + data + " test_dir=" + data + " checkpoint=" + fifo,
        tiny_train(data, dir + "/run") + "1 checkpoint=" + fifo}) {
    const Run r = lumen_cli(command, 60);
    INFO("lumen " << command << "\n" << r.out);
    CHECK(r.code == 1);
    CHECK(r.out.find("'" + fifo + "' is a FIFO (named pipe), not a safetensors file") !=
          std::string::npos);
  }
  check_fails(embed + " checkpoint=/dev/zero", 1, "'/dev/zero' is a character device");
  // A folder: named as one, with the run's checkpoint suggested when it holds a run.
  REQUIRE(lumen_cli(tiny_train(data, dir + "/run") + "1").code == 0);
  check_fails(embed + " checkpoint=" + dir + "/run", 1,
              "'" + dir + "/run' is a directory, not a safetensors file; did you mean " + dir +
                  "/run/checkpoints/last.safetensors?");
  check_fails(embed + " checkpoint=" + dir, 1, "'" + dir + "' is a directory");
  fs::remove_all(dir);
}

// Writes `count` distinct 16x16 PNGs into folder/<class_name>/ for each class (seeded by name).
void write_class_folder(const std::string& folder, const std::vector<std::string>& classes,
                        int count) {
  for (const std::string& name : classes) {
    for (int i = 0; i < count; ++i) {
      const int seed = int(std::hash<std::string>{}(name) % 1000) * 16 + i;
      lumen::testing::write_file(
          folder + "/" + name + "/" + std::to_string(i) + ".png",
          lumen::testing::encode_png(16, 16, 2, 8, lumen::testing::smooth_rgb(16, 16, seed)));
    }
  }
}

// The top-1 accuracy printed by `lumen knn`, or -1.
double knn_top1(const std::string& out) {
  const size_t at = out.find("knn top1 ");
  return at == std::string::npos ? -1 : std::stod(out.substr(at + 9));
}

TEST_CASE("knn matches classes by name between train_dir and test_dir") {
  const std::string dir = lumen::testing::temp_dir("cli_knn_names");
  const std::string train = dir + "/train", test = dir + "/test";
  write_class_folder(train, {"a_cat", "b_dog", "c_fox", "d_owl"}, 4);
  // The test folder holds two of the classes, the same images: labels 0 and 1 by position, 2 and
  // 3 by name. Each test image's nearest neighbour is its own copy.
  write_class_folder(test, {"c_fox", "d_owl"}, 4);
  const std::string knn =
      "knn device=cpu model.name=resnet-9 model.width=0.125 "
      "collate.input_size=16 knn.k=1 train_dir=";
  const Run r = lumen_cli(knn + train + " test_dir=" + test);
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(knn_top1(r.out) == doctest::Approx(1.0));

  write_class_folder(dir + "/unknown", {"c_fox", "e_yak"}, 2);
  check_fails(
      knn + train + " test_dir=" + dir + "/unknown", 1,
      "kNN: class 'e_yak' of test_dir=" + dir + "/unknown is not a class of train_dir=" + train);
  write_class_folder(dir + "/flat", {"."}, 4);
  check_fails(knn + dir + "/flat test_dir=" + test, 1,
              "kNN votes with the labels of train_dir=" + dir +
                  "/flat, but all its images have "
                  "one label");
  check_fails(knn + train + " test_dir=" + dir + "/flat", 1,
              "train_dir=" + train + " names its classes (one subfolder per class) but test_dir=" +
                  dir + "/flat does not");
  // Sets without class names (CIFAR batches) keep their labels on both sides.
  const std::string cifar = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const Run positional = lumen_cli(knn + cifar + " test_dir=" + cifar);
  INFO(positional.out);
  CHECK(positional.code == 0);
  CHECK(knn_top1(positional.out) == doctest::Approx(1.0));
  check_fails(knn + train + " test_dir=" + cifar, 1, "does not (a flat folder, or an idx/CIFAR");
  std::filesystem::remove_all(dir);
}

TEST_CASE("method=NAME: its --help lists its keys and defaults; another method's key is refused") {
  const Run byol = lumen_cli("train method=byol --help");
  CHECK(byol.code == 0);
  for (const char* text : {"method=byol", "method.momentum", "model.prediction_hidden_dim",
                           "[default 256]", "collate.view_N.KEY"}) {
    CHECK_MESSAGE(byol.out.find(text) != std::string::npos, text);
  }
  CHECK(byol.out.find("criterion.temperature") == std::string::npos);
  check_fails("train method=byol input_dir=x criterion.temperature=0.2", 1,
              "criterion.temperature is not a key of method=byol (it belongs to simclr");
  check_fails("train method=mocov3 input_dir=x", 1, "unknown method 'mocov3'");
}

TEST_CASE("method=vicreg and method=barlowtwins: --help lists their keys, defaults and wirings") {
  const Run vicreg = lumen_cli("train method=vicreg --help");
  CHECK(vicreg.code == 0);
  for (const char* text :
       {"criterion.lambda_param            weight of the invariance term [default 25]",
        "criterion.mu_param                weight of the variance term [default 25]",
        "criterion.nu_param                weight of the covariance term [default 1]",
        "criterion.eps", "[default 1e-4]", "model.num_layers", "[default lars;",
        "lars: lr 0.2 x batch/256, weight decay 1e-06, 10 warm-up epochs, cosine to 0.01",
        "collate.solarization_prob         probability of solarization [default 0.1]",
        "collate.cj_strength               scales all colour jitter strengths [default 0.5]"}) {
    CHECK_MESSAGE(vicreg.out.find(text) != std::string::npos, text);
  }
  const Run bt = lumen_cli("train method=barlowtwins --help");
  CHECK(bt.code == 0);
  for (const char* text :
       {"optimizer.name=lars", "[default sgd;", "sgd: lr 0.06 x batch/128, weight decay 0.0005",
        "lars: lr 0.2 x batch/256, weight decay 1.5e-06, lr x 0.024 on batch norm and biases, 10 "
        "warm-up epochs",
        "criterion.lambda_param            weight of the off-diagonal (redundancy) terms [default "
        "5e-3]"}) {
    CHECK_MESSAGE(bt.out.find(text) != std::string::npos, text);
  }
  CHECK(bt.out.find("criterion.mu_param") == std::string::npos);
}

TEST_CASE("method=dino and method=swav: --help lists their keys and crop keys") {
  const Run dino = lumen_cli("train method=dino --help");
  CHECK(dino.code == 0);
  for (const char* text :
       {"method=dino", "model.bottleneck_dim", "model.freeze_last_layer", "criterion.teacher_temp",
        "criterion.warmup_teacher_temp_epochs", "criterion.center_momentum", "[default 0.996]",
        "collate.global_crop_size", "collate.n_local_views"}) {
    CHECK_MESSAGE(dino.out.find(text) != std::string::npos, text);
  }
  const Run swav = lumen_cli("train method=swav --help");
  CHECK(swav.code == 0);
  for (const char* text : {"method=swav", "model.n_prototypes", "criterion.sinkhorn_iterations",
                           "method.queue_length", "collate.crop_sizes", "adam: lr 0.001"}) {
    CHECK_MESSAGE(swav.out.find(text) != std::string::npos, text);
  }
  CHECK(swav.out.find("collate.input_size") == std::string::npos);
}

TEST_CASE("train, embed and knn with a momentum method (byol) from the command line") {
  const std::string dir = lumen::testing::temp_dir("cli_byol");
  const std::string data = lumen::testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 6);
  const Run train =
      lumen_cli("train method=byol input_dir=" + data + " output_dir=" + dir + "/run device=cpu " +
                "model.name=resnet-9 model.width=0.125 model.hidden_dim=32 model.out_dim=16 " +
                "model.prediction_hidden_dim=32 collate.input_size=16 loader.batch_size=16 " +
                "trainer.max_epochs=2 seed=2");
  INFO(train.out);
  REQUIRE(train.code == 0);
  const std::string checkpoint = dir + "/run/checkpoints/last.safetensors";
  const Run embed = lumen_cli("embed input_dir=" + data + " checkpoint=" + checkpoint +
                              " device=cpu output=" + dir + "/e.csv");
  CHECK(embed.code == 0);
  CHECK(embed.out.find("wrote 32 embeddings of dimension 64") != std::string::npos);
  const Run knn = lumen_cli("knn train_dir=" + data + " test_dir=" + data +
                            " checkpoint=" + checkpoint + " device=cpu");
  CHECK(knn.code == 0);
  CHECK(knn.out.find("knn top1 ") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("check on a folder of videos reports videos") {
  const Run r = lumen_cli("check input_dir=fixtures/video_kinds");
  INFO(r.out);
  CHECK(r.out.find("healthy videos: ") != std::string::npos);
  CHECK(r.out.find("corrupt videos: ") != std::string::npos);
}
