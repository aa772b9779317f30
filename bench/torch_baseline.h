// The PyTorch baselines the benchmarks run beside Lumen in the same process tree: which python
// runs them and where their scripts are. One lookup for every benchmark:
//   $LUMEN_PYTHON, then python3, then /usr/bin/python3 (where Debian's python3-torch lives); the
//   first that imports the modules wins.
#pragma once

#include <omp.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace lumen::bench {

// The command line that runs `script` (a file beside the benchmark sources, bench/) with `args`,
// wherever the program is run from. PyTorch gets the thread count Lumen runs with
// (OMP_NUM_THREADS), so that a CPU comparison is thread for thread: left alone it picks its own
// (one thread on the 2-core development machine, where Lumen uses two).
inline std::string torch_command(const std::string& python, const std::string& script,
                                 const std::string& args) {
  return "OMP_NUM_THREADS=" + std::to_string(omp_get_max_threads()) + " " + python + " " +
         std::string(LUMEN_BENCH_DIR) + "/" + script + " " + args;
}

// The python that imports `modules` (e.g. "torch, torchvision"), or "" when none does.
inline std::string find_torch_python(const std::string& modules) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("LUMEN_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (const std::string& python : candidates) {
    const std::string cmd = python + " -c 'import " + modules + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return python;
  }
  return "";
}

// What to print when find_torch_python found nothing.
inline std::string no_torch_python(const std::string& modules) {
  return "PyTorch baseline skipped: no python imports " + modules +
         " ($LUMEN_PYTHON, python3, /usr/bin/python3); install python3-torch or set LUMEN_PYTHON";
}

}  // namespace lumen::bench
