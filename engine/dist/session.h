// The data-parallel job this process is a rank of. A DataParallelSession, made once by the
// program before anything else is built, starts MPI when a launcher started the process as a
// rank (engine/dist/launch.h: mpirun, srun, mpiexec) and ends it; without one, or in a build
// without MPI, the job is this process alone. Rank, world size and local rank come from MPI.
//
//   DataParallelSession session;                 // MPI_Init_thread under mpirun / srun
//   const Job& job = current_job();              // job.comm: CPU tensors of every rank
//   ... train ...
//   // leaving scope: MPI_Finalize (every rank together). On an error, abort() ends every rank.
#pragma once

#include <memory>

#include "engine/dist/communicator.h"

namespace lumen {

struct Job {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_size = 1;  // among the ranks on this node (its GPU: local_rank)
  std::shared_ptr<Communicator> comm;  // CPU tensors: MPI, or the single-process communicator
};

// The job of the live DataParallelSession, or a job of this process alone.
const Job& current_job();

// Fault detection of the current job: a collective that waits `seconds` for the other ranks
// fails naming itself, and a rank not heard from for min(seconds, 60) ends the job, named by the
// rank that noticed (engine/dist/mpi_runtime.h). Nothing to do for a job of one process.
void set_fault_timeout(double seconds);

class DataParallelSession {
 public:
  DataParallelSession();
  // Ends MPI (MPI_Finalize, which every rank reaches) unless finish() or abort() did. Left by an
  // exception, it ends the watchdog but not MPI: the process exits, and the launcher ends the
  // other ranks (or their watchdogs notice).
  ~DataParallelSession();
  DataParallelSession(const DataParallelSession&) = delete;
  DataParallelSession& operator=(const DataParallelSession&) = delete;

  const Job& job() const { return current_job(); }
  void finish();
  // Ends every rank of the job (MPI_Abort), after a pause on ranks other than 0 so that rank 0's
  // own message comes first. Use after printing why.
  [[noreturn]] void abort(int code);

 private:
  bool mpi_ = false, finished_ = false;
};

}  // namespace lumen
