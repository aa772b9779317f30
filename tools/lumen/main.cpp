// The `lumen` command line. Commands take lightly-style key=value arguments.
#include <cstdio>
#include <cstring>
#include <string>

#include "engine/core/device.h"

namespace {

const char* kUsage =
    "usage: lumen <command> [key=value ...]\n"
    "\n"
    "commands:\n"
    "  version    print the version and the backends this build has\n"
    "  devices    list the CUDA devices Lumen can use\n"
    "  --help     this text\n";

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
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    const std::string command = argv[1];
    if (command == "version" || command == "--version") return print_version();
    if (command == "devices") return list_devices();
    std::fprintf(stderr, "lumen: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lumen: error: %s\n", e.what());
    return 1;
  }
}
