// How a process learns, before MPI starts, that a launcher made it a rank (engine/dist/launch.h):
// the launchers' environment variables, Slurm's tasks per node, and each rank's OpenMP threads.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/dist/launch.h"
#include "engine/dist/session.h"
#include "support/testing.h"

using namespace lumen;

namespace {

const char* kLauncherVariables[] = {"OMPI_COMM_WORLD_SIZE",
                                    "OMPI_COMM_WORLD_LOCAL_SIZE",
                                    "PMIX_RANK",
                                    "PMIX_LOCAL_SIZE",
                                    "PMI_RANK",
                                    "PMI_SIZE",
                                    "MPI_LOCALNRANKS",
                                    "SLURM_STEP_ID",
                                    "SLURM_STEP_NUM_TASKS",
                                    "SLURM_STEP_TASKS_PER_NODE",
                                    "SLURM_NODEID",
                                    "OMP_NUM_THREADS"};

// A clean environment for one case: no launcher variables, whatever the test runs under.
struct CleanEnvironment {
  CleanEnvironment() {
    for (const char* v : kLauncherVariables) unsetenv(v);
  }
  ~CleanEnvironment() {
    for (const char* v : kLauncherVariables) unsetenv(v);
  }
};

std::string threads_set() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  return v != nullptr ? v : "";
}

int cores() { return int(sysconf(_SC_NPROCESSORS_ONLN)); }

}  // namespace

TEST_CASE("launchers are told apart by their environment; none means one process") {
  CleanEnvironment clean;
  CHECK(mpi_launcher() == "");
  CHECK(launcher_world_size() == 0);
  setenv("SLURM_STEP_NUM_TASKS", "1", 1);  // a batch script's own step: not a multi-rank launch
  CHECK(mpi_launcher() == "");
  setenv("SLURM_STEP_NUM_TASKS", "4", 1);
  CHECK(mpi_launcher() == "srun");
  CHECK(launcher_world_size() == 4);
  setenv("PMIX_RANK", "2", 1);
  setenv("SLURM_STEP_ID", "0", 1);
  CHECK(mpi_launcher() == "srun");
  unsetenv("SLURM_STEP_ID");
  unsetenv("SLURM_STEP_NUM_TASKS");
  CHECK(mpi_launcher() == "a PMIx launcher");
  unsetenv("PMIX_RANK");
  setenv("PMI_SIZE", "3", 1);
  CHECK(mpi_launcher() == "mpiexec");
  CHECK(launcher_world_size() == 3);
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  CHECK(mpi_launcher() == "mpirun");
  CHECK(launcher_world_size() == 2);
}

TEST_CASE("each rank gets cores / ranks-on-this-node OpenMP threads unless told otherwise") {
  CleanEnvironment clean;
  cpu_set_t saved;
  REQUIRE(sched_getaffinity(0, sizeof(saved), &saved) == 0);
  if (CPU_COUNT(&saved) < cores()) {
    MESSAGE("this process is bound to some cores; the unbound cases are left out");
  } else {
    CHECK_FALSE(set_rank_thread_default());  // no launcher: nothing to do
    CHECK(threads_set() == "");
    setenv("OMPI_COMM_WORLD_SIZE", "8", 1);
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
    CHECK(set_rank_thread_default());
    CHECK(threads_set() == std::to_string(std::max(1, cores() / 2)));
    CHECK_FALSE(set_rank_thread_default());  // given now: kept
    unsetenv("OMP_NUM_THREADS");
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "1000000", 1);
    CHECK(set_rank_thread_default());
    CHECK(threads_set() == "1");
    unsetenv("OMP_NUM_THREADS");
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    // srun: 3 tasks on node 0, 1 on node 1, this is node 1
    setenv("SLURM_STEP_NUM_TASKS", "4", 1);
    setenv("SLURM_STEP_TASKS_PER_NODE", "3,1", 1);
    setenv("SLURM_NODEID", "1", 1);
    CHECK(set_rank_thread_default());
    CHECK(threads_set() == std::to_string(cores()));
    unsetenv("OMP_NUM_THREADS");
    setenv("SLURM_STEP_TASKS_PER_NODE", "2(x2)", 1);
    CHECK(set_rank_thread_default());
    CHECK(threads_set() == std::to_string(std::max(1, cores() / 2)));
    unsetenv("OMP_NUM_THREADS");
  }
  if (cores() > 1) {
    // Bound by the launcher to one core: one thread, whatever the ranks per node.
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &saved)) {
        CPU_SET(c, &one);
        break;
      }
    }
    REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "1", 1);
    CHECK(set_rank_thread_default());
    CHECK(threads_set() == "1");
    REQUIRE(sched_setaffinity(0, sizeof(saved), &saved) == 0);
  }
}

TEST_CASE("without a launcher the session is a job of this process alone") {
  CleanEnvironment clean;
  DataParallelSession session;
  CHECK(current_job().rank == 0);
  CHECK(current_job().world_size == 1);
  CHECK(current_job().comm->world_size() == 1);
  set_fault_timeout(5);  // nothing to watch
  CHECK_THROWS_WITH_AS(set_fault_timeout(0), doctest::Contains("trainer.dist_timeout"), Error);
  CHECK_FALSE(data_parallel_support().empty());
}
