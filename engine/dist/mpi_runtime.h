// The MPI side of a data-parallel job: MPI's start and end, the world communicator (CPU tensors)
// and the watchdog that notices a rank gone silent. DataParallelSession (engine/dist/session.h)
// is what uses it; builds without MPI (LUMEN_WITH_MPI unset) have only built_with_mpi() == false
// and errors that say so.
//
// Fault detection, with more than one rank:
//   - every collective is started non-blocking and waited for with a deadline (the
//     communicator's timeout()): one that waits too long fails naming the rank, the collective,
//     its size and its number, instead of hanging;
//   - a watchdog thread exchanges heartbeats with rank 0 (every rank with rank 0, rank 0 with
//     every rank) over a communicator of its own; a rank not heard from for the silence limit
//     (died, stopped, or hung so hard that its threads do not run) is named on stderr by the rank
//     that noticed (rank 0 also tells the others), and the job is ended with MPI_Abort;
//   - MPI errors are returned (MPI_ERRORS_RETURN), never fatal inside MPI, and become errors that
//     name the rank and the collective.
#pragma once

#include <memory>
#include <string>

#include "engine/dist/communicator.h"

namespace lumen::mpi {

bool built_with_mpi();
// MPI_Get_library_version's first line ("Open MPI v4.1.4, ..."); "" without MPI.
std::string library_version();

struct World {
  int rank = 0, size = 1;
  int local_rank = 0, local_size = 1;  // among the ranks on this node (MPI_COMM_TYPE_SHARED)
  std::shared_ptr<Communicator> comm;  // every rank of MPI_COMM_WORLD, CPU tensors
};

// MPI_Init_thread (MPI_THREAD_MULTIPLE, for the watchdog), the world communicator and, with more
// than one rank, the watchdog (silence limit 60 s until set_silence_limit).
World start();
// Ends the watchdog (telling the peers this rank leaves) and MPI (MPI_Finalize).
void finish();
// Ends the watchdog without a word to the peers, so that they notice this rank's silence; for a
// process that leaves without finish().
void abandon();
// Ends every rank of the job (MPI_Abort).
[[noreturn]] void abort_job(int code);
// How long a rank may stay silent before the watchdog ends the job (seconds, > 0).
void set_silence_limit(double seconds);
// "rank 1 (pid 4242 on node-a)": how messages name a rank of the running job.
std::string rank_name(int rank);
// The ranks this one watches (rank 0: every other rank; the others: rank 0) that it has not
// heard from for more than `seconds`, as "no word from rank 1 (...) for 4 s", "" when none.
std::string silent_ranks(double seconds);

}  // namespace lumen::mpi
