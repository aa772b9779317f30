// The `lumen` command line. Commands take lightly-style key=value arguments; `lumen <command>
// --help` lists every key with its default.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "api/lumen.h"
#include "api/methods.h"
#include "api/train_config.h"
#include "engine/data/image_folder.h"
#include "engine/dist/launch.h"
#include "engine/dist/session.h"
#include "engine/train/trainer.h"
#include "tools/lumen/commands.h"
#include "tools/serve/serve.h"

namespace {

// OpenMP's default wait policy keeps idle worker threads spinning after every parallel region.
// On a machine with few cores, or one shared with other work, they take the cores the working
// threads need: a CPU training step ran 3.6x slower (bench/results/resnet_cpu_2026-11-23.md).
// libgomp reads OMP_WAIT_POLICY (and OMP_NUM_THREADS) once, before main, so when the user has not
// chosen a policy the command line sets a passive one and runs itself again (if that fails it goes
// on as it is). Under mpirun or srun the same run gives each rank its share of the cores
// (engine/dist/launch.h); it happens before MPI starts, in the process the launcher made.
void prefer_passive_openmp_threads(char** argv) {
  bool changed = lumen::set_rank_thread_default();
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    changed |= setenv("OMP_WAIT_POLICY", "passive", 1) == 0;
  }
  if (changed) execv("/proc/self/exe", argv);
}

const char* kUsage =
    "usage: lumen <command> [key=value ...]\n"
    "\n"
    "commands:\n"
    "  train      train a backbone without labels (method=simclr, ...) on input_dir\n"
    "  embed      write the backbone features of input_dir as lightly's CSV\n"
    "  knn        kNN top-1/top-5 accuracy of test_dir against train_dir\n"
    "  serve      an HTTP server that embeds images (POST /v1/embed, /v1/embed_batch)\n"
    "  check      list healthy and corrupt images (or videos) of input_dir\n"
    "  neighbors  the nearest neighbours of embeddings (exact, or approximate through FAISS)\n"
    "  select     a diverse or informative subset of embeddings to label (lightly's selection)\n"
    "  report     an HTML page of a run: training curves, a map of the embeddings, neighbours\n"
    "  devices    list the CUDA devices Lumen can use, and whether it can train data-parallel\n"
    "  version    print the version and the backends this build has\n"
    "\n"
    "`lumen <command> --help` lists the command's keys and defaults. Example:\n"
    "  lumen train input_dir=images/ loader.batch_size=256 trainer.max_epochs=100\n";

int print_version() {
  std::printf("lumen %s\n", LUMEN_VERSION);
#if defined(LUMEN_WITH_CUDA)
  std::printf("backends: cpu, cuda (CUDA %d.%d)\n", CUDART_VERSION / 1000,
              (CUDART_VERSION % 1000) / 10);
#else
  std::printf("backends: cpu\n");
#endif
  return 0;
}

int list_devices() {
  std::string reason;
  const int count = lumen::cuda_device_count(&reason);
  std::printf("cpu\n");
  for (int i = 0; i < count; ++i) std::printf("%s\n", lumen::Device::cuda(i).str().c_str());
  if (count == 0) std::printf("no CUDA device: %s\n", reason.c_str());
  std::printf("%s\n", lumen::data_parallel_support().c_str());
  return 0;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h" || a == "help") return true;
  }
  return false;
}

int print_keys(const char* command, const std::vector<lumen::ConfigKey>& schema) {
  std::printf("usage: lumen %s [key=value ...]\n\nkeys:\n%s", command,
              lumen::Config(schema).help().c_str());
  return 0;
}

int print_train_keys(const std::string& method_name) {
  const lumen::MethodEntry& method = lumen::find_method(method_name);
  std::printf("method=%s: %s\nmethods:", method.name.c_str(), method.help.c_str());
  for (const lumen::MethodEntry& m : lumen::method_table()) std::printf(" %s", m.name.c_str());
  std::printf(" (`lumen train method=NAME --help` lists the keys of NAME)\n\n");
  print_keys("train", lumen::train_config_schema(method.name));
  std::printf("%s", lumen::per_view_keys_help(method.views).c_str());
  return 0;
}

// Under mpirun or srun every rank runs this (engine/dist/session.h); rank 0 alone writes the run's
// files and prints. An error on one rank ends the whole job (MPI_Abort) after it is printed.
int run_train(const std::vector<std::string>& args) {
  if (wants_help(args)) return print_train_keys(lumen::method_of(args));
  lumen::DataParallelSession session;
  const lumen::Job& job = session.job();
  try {
    const std::string checkpoint = lumen::train_embedding_model(lumen::train_config(args));
    if (job.rank == 0) std::printf("checkpoint: %s\n", checkpoint.c_str());
    return 0;
  } catch (const lumen::TrainingInterrupted& e) {
    if (job.world_size == 1) throw;
    // Every rank stopped after the same step, once rank 0's checkpoint was written.
    if (job.rank == 0) std::fprintf(stderr, "\nlumen: %s\n", e.what());
    session.finish();
    return 130;
  } catch (const std::exception& e) {
    if (job.world_size == 1) throw;
    std::fprintf(stderr, "lumen: error (rank %d of %d): %s\n", job.rank, job.world_size, e.what());
    session.abort(1);
  }
}

int run_embed(const std::vector<std::string>& args) {
  if (wants_help(args)) return print_keys("embed", lumen::embed_config_schema());
  const lumen::Config config = lumen::embed_config(args);
  lumen::check_embeddings_output(config);
  const lumen::Embeddings e = lumen::embed_images(config);
  lumen::save_embeddings_csv(config.get_string("output"), e);
  std::printf("wrote %lld embeddings of dimension %lld to %s\n",
              static_cast<long long>(e.values.size(0)), static_cast<long long>(e.values.size(1)),
              config.get_string("output").c_str());
  return 0;
}

int run_knn(const std::vector<std::string>& args) {
  if (wants_help(args)) return print_keys("knn", lumen::knn_config_schema());
  const lumen::KnnResult r = lumen::knn_evaluate(lumen::knn_config(args));
  std::printf("knn top1 %.4f top5 %.4f\n", r.top1, r.top5);
  return 0;
}

int run_check(const std::vector<std::string>& args) {
  if (wants_help(args)) return print_keys("check", lumen::check_config_schema());
  lumen::Config config(lumen::check_config_schema());
  config.parse_args(args);
  const lumen::data::ImageCheck check = lumen::data::check_images(
      config.require("input_dir"), int(std::max<int64_t>(0, config.get_int("loader.num_workers"))));
  std::printf("healthy %s: %zu\n", check.kind, check.healthy.size());
  std::printf("corrupt %s: %zu\n", check.kind, check.corrupt.size());
  for (const auto& bad : check.corrupt) {
    std::printf("  %s: %s\n", bad.filename.c_str(), bad.reason.c_str());
  }
  return check.corrupt.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_threads(argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "train") return run_train(args);
    if (command == "embed") return run_embed(args);
    if (command == "knn") return run_knn(args);
    if (command == "check") return run_check(args);
    if (command == "serve") {
      if (wants_help(args)) return print_keys("serve", lumen::serve::serve_config_schema());
      return lumen::serve::run_serve(args);
    }
    if (command == "neighbors") return lumen::cli::run_neighbors(args);
    if (command == "select") return lumen::cli::run_select(args);
    if (command == "report") return lumen::cli::run_report(args);
    if (command == "version" || command == "--version") return print_version();
    if (command == "devices") return list_devices();
    const std::string guess =
        lumen::nearest_name(command, {"train", "embed", "knn", "check", "serve", "neighbors",
                                      "select", "report", "devices", "version"});
    std::fprintf(stderr, "lumen: unknown command '%s'%s\n\n%s", command.c_str(),
                 guess.empty() ? "" : (" (did you mean '" + guess + "'?)").c_str(), kUsage);
    return 2;
  } catch (const lumen::TrainingInterrupted& e) {
    std::fprintf(stderr, "\nlumen: %s\n", e.what());
    return 130;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lumen: error: %s\n", e.what());
    return 1;
  }
}
