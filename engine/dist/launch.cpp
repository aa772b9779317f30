#include "engine/dist/launch.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "engine/dist/mpi_runtime.h"
#include "engine/dist/nccl_communicator.h"

namespace lumen {

namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != 0 ? std::atoi(v) : 0;
}

// Slurm's tasks on this node from SLURM_STEP_TASKS_PER_NODE ("2(x3),1": 2 on each of the first
// three nodes, 1 on the fourth) and SLURM_NODEID; 0 when they are not set.
int slurm_local_tasks() {
  const char* spec = std::getenv("SLURM_STEP_TASKS_PER_NODE");
  if (spec == nullptr) return 0;
  std::vector<int> per_node;
  const std::string s = spec;
  size_t i = 0;
  while (i < s.size()) {
    const int tasks = std::atoi(s.c_str() + i);
    int repeat = 1;
    const size_t end = s.find(',', i);
    const std::string item = s.substr(i, end == std::string::npos ? std::string::npos : end - i);
    const size_t x = item.find("(x");
    if (x != std::string::npos) repeat = std::atoi(item.c_str() + x + 2);
    per_node.insert(per_node.end(), size_t(repeat > 0 ? repeat : 1), tasks);
    if (end == std::string::npos) break;
    i = end + 1;
  }
  const int node = env_int("SLURM_NODEID");
  return node >= 0 && size_t(node) < per_node.size() ? per_node[size_t(node)] : 0;
}

// Ranks on this node as the launcher says (0: unknown).
int launcher_local_size() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "PMIX_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
    if (env_int(name) > 0) return env_int(name);
  }
  return slurm_local_tasks();
}

}  // namespace

std::string mpi_launcher() {
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return "mpirun";
  const bool slurm = std::getenv("SLURM_STEP_ID") != nullptr;
  if (std::getenv("PMIX_RANK") != nullptr) return slurm ? "srun" : "a PMIx launcher";
  if (std::getenv("PMI_RANK") != nullptr || std::getenv("PMI_SIZE") != nullptr) {
    return slurm ? "srun" : "mpiexec";
  }
  if (env_int("SLURM_STEP_NUM_TASKS") > 1) return "srun";
  return "";
}

int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    if (env_int(name) > 0) return env_int(name);
  }
  return 0;
}

bool set_rank_thread_default() {
  if (mpi_launcher().empty() || std::getenv("OMP_NUM_THREADS") != nullptr) return false;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const int cores = int(sysconf(_SC_NPROCESSORS_ONLN));
  const int bound = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? CPU_COUNT(&allowed) : 0;
  const int local = launcher_local_size();
  int threads = 0;
  if (bound > 0 && bound < cores) {
    threads = bound;  // the launcher gave this rank these cores
  } else if (local > 0) {
    threads = cores / local > 0 ? cores / local : 1;
  }
  if (threads <= 0) return false;
  return setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1) == 0;
}

std::string data_parallel_support() {
  if (!mpi::built_with_mpi()) {
    return "data parallel: not available (this Lumen was built without MPI; install Open MPI, "
           "libopenmpi-dev, and build again)";
  }
  const std::string nccl = nccl_version();
  return "data parallel: available through " + mpi::library_version() +
         (nccl.empty() ? std::string(" (CPU tensors)")
                       : " and NCCL " + nccl + " for CUDA devices") +
         "; launch with `mpirun -np N lumen train ...` or `srun --mpi=pmix lumen train ...`";
}

}  // namespace lumen
