#include "engine/dist/session.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

#include "engine/dist/launch.h"
#include "engine/dist/mpi_runtime.h"

namespace lumen {

namespace {

Job& job_state() {
  static Job job{0, 1, 0, 1, single_process_communicator()};
  return job;
}

// mpirun binds each rank to one core when it starts two or fewer: say how to give them more.
void note_binding(const Job& job, const std::string& launcher) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (job.rank != 0 || launcher != "mpirun" ||
      sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    return;
  }
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (CPU_COUNT(&allowed) == 1 && cores > job.local_size) {
    std::fprintf(stderr,
                 "note: mpirun bound each rank to one core; with `mpirun --bind-to none` (or "
                 "--map-by slot:PE=K) each rank uses %ld cores\n",
                 cores / job.local_size);
  }
}

}  // namespace

const Job& current_job() { return job_state(); }

void set_fault_timeout(double seconds) {
  LUMEN_CHECK(seconds > 0, "trainer.dist_timeout must be positive, got ", seconds);
  Job& job = job_state();
  if (job.world_size == 1) return;
  job.comm->set_timeout(seconds);
  mpi::set_silence_limit(std::min(seconds, 60.0));
}

DataParallelSession::DataParallelSession() {
  const std::string launcher = mpi_launcher();
  if (launcher.empty()) return;
  mpi::World world = mpi::start();
  mpi_ = true;
  const int expected = launcher_world_size();
  if (expected > 1 && world.size != expected) {
    mpi::finish();
    mpi_ = false;
    LUMEN_FAIL(launcher, " started ", expected, " tasks, but MPI sees ", world.size,
               ": the tasks did not find each other. Under Slurm pass srun --mpi=pmix (or "
               "--mpi=pmi2, whichever `srun --mpi=list` offers); with mpirun, use the mpirun of "
               "the MPI this Lumen was built with");
  }
  Job& job = job_state();
  job.rank = world.rank;
  job.world_size = world.size;
  job.local_rank = world.local_rank;
  job.local_size = world.local_size;
  job.comm = world.size > 1 ? world.comm : single_process_communicator();
  note_binding(job, launcher);
}

DataParallelSession::~DataParallelSession() {
  if (!mpi_ || finished_) return;
  if (std::uncaught_exceptions() > 0) {
    mpi::abandon();
  } else {
    finish();
  }
}

void DataParallelSession::finish() {
  if (!mpi_ || finished_) return;
  finished_ = true;
  job_state() = Job{0, 1, 0, 1, single_process_communicator()};
  mpi::finish();
}

void DataParallelSession::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (!mpi_ || job_state().world_size == 1) std::_Exit(code);
  if (job_state().rank != 0) std::this_thread::sleep_for(std::chrono::seconds(1));
  mpi::abort_job(code);
}

}  // namespace lumen
