// Faults of a data-parallel run under `mpirun -np 2 lumen train` on the CPU:
//   - SIGTERM to one rank: the ranks agree to stop after the same step, rank 0 checkpoints, the
//     job exits non-zero with the resume command, and the resume ends as an uninterrupted run;
//   - a rank killed (SIGKILL): the job ends within a minute with an error that names it;
//   - a rank stopped (SIGSTOP, a hang): the other rank's watchdog names it and ends the job within
//     trainer.dist_timeout, instead of waiting forever.
// Skipped (exit 77) where MPI or mpirun is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/safetensors.h"
#include "support/datasets.h"
#include "support/mpirun.h"
#include "support/testing.h"

namespace fs = std::filesystem;
using namespace lumen;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A 2-rank run of many epochs (it runs until stopped), writing a checkpoint after every epoch.
std::string long_run(const std::string& data, const std::string& output_dir,
                     const std::string& more = "") {
  return testing::mpirun_prefix(2) + LUMEN_CLI_PATH + " train input_dir=" + data +
         " output_dir=" + output_dir +
         " device=cpu model.name=resnet-9 model.width=0.125 model.out_dim=16 collate.input_size=8 "
         "loader.batch_size=8 seed=4 trainer.checkpoint_every=1 " +
         more;
}

// Starts the run and waits until it trains (its first epoch's checkpoint exists) and both ranks'
// pids are known.
struct Started {
  explicit Started(const std::string& command, const std::string& output_dir,
                   const std::string& log)
      : job(command, log) {
    REQUIRE_MESSAGE(testing::wait_for_file(output_dir + "/checkpoints/epoch_0001.safetensors", 60),
                    read_text(log));
    rank0 = job.rank_pid(0);
    rank1 = job.rank_pid(1);
    REQUIRE(rank0 > 0);
    REQUIRE(rank1 > 0);
  }
  testing::BackgroundJob job;
  int rank0 = -1, rank1 = -1;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("SIGTERM to one rank: every rank stops after the same step, rank 0 checkpoints") {
  const std::string dir = testing::temp_dir("dist_sigterm");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  const std::string run = dir + "/run";
  Started started(long_run(data, run, "trainer.max_epochs=100000"), run, dir + "/log");
  kill(started.rank1, SIGTERM);
  const int code = started.job.wait(60);
  const std::string log = read_text(dir + "/log");
  INFO(log);
  CHECK(code == 130);
  const std::string said = "interrupted by signal 15 after ";
  const size_t at = log.find(said);
  REQUIRE(at != std::string::npos);
  CHECK(log.find(said, at + 1) == std::string::npos);  // said once, by rank 0
  CHECK(log.find("Resume with: lumen train resume=true output_dir=" + run) != std::string::npos);
  CHECK(log.find("on 2 ranks") != std::string::npos);
  const size_t end = log.find("; checkpoint saved", at);
  REQUIRE(end != std::string::npos);
  long epoch = 0, epochs = 0, step = 0, steps = 0;
  REQUIRE(std::sscanf(log.substr(at + said.size(), end - at - said.size()).c_str(),
                      "epoch %ld/%ld step %ld/%ld", &epoch, &epochs, &step, &steps) == 4);
  CHECK(steps == 2);
  // The checkpoint holds that step; a resume on 2 ranks continues from it.
  const SafetensorsFile ckpt = load_safetensors(run + "/checkpoints/last.safetensors");
  CHECK(std::stol(ckpt.metadata.at("global_step")) == (epoch - 1) * steps + step);
  const int done = int((epoch - 1) * steps + step);
  testing::BackgroundJob resumed(
      long_run(
          data, run,
          "trainer.max_epochs=100000 resume=true trainer.max_steps=" + std::to_string(done + 1)),
      dir + "/resume.log");
  CHECK(resumed.wait(120) == 0);
  CHECK(read_text(dir + "/resume.log").find("resuming from") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a rank killed: the job ends within a minute, naming the rank") {
  const std::string dir = testing::temp_dir("dist_kill");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  Started started(long_run(data, dir + "/run", "trainer.max_epochs=100000"), dir + "/run",
                  dir + "/log");
  const auto t = std::chrono::steady_clock::now();
  kill(started.rank1, SIGKILL);
  const int code = started.job.wait(60);
  const std::string log = read_text(dir + "/log");
  INFO(log);
  CHECK(code != 0);
  CHECK(code != -1);  // ended
  CHECK(seconds_since(t) < 60);
  CHECK(log.find("rank 1") != std::string::npos);
  CHECK(log.find("signal 9") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a rank stopped (hung): the other rank's watchdog names it and ends the job") {
  const std::string dir = testing::temp_dir("dist_hang");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 32, 4, 2);
  Started started(long_run(data, dir + "/run", "trainer.max_epochs=100000 trainer.dist_timeout=3"),
                  dir + "/run", dir + "/log");
  const auto t = std::chrono::steady_clock::now();
  kill(started.rank1, SIGSTOP);
  const int code = started.job.wait(60);
  const std::string log = read_text(dir + "/log");
  INFO(log);
  CHECK(code != 0);
  CHECK(code != -1);
  CHECK(seconds_since(t) < 30);
  CHECK(log.find("no word from rank 1 (pid " + std::to_string(started.rank1)) != std::string::npos);
  fs::remove_all(dir);
}

int main(int argc, char** argv) {
  const std::string missing = testing::mpirun_missing();
  if (!missing.empty()) return testing::skip_suite(missing);
  doctest::Context context(argc, argv);
  return context.run();
}
