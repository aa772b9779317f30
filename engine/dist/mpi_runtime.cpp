#include "engine/dist/mpi_runtime.h"

#include <cstdio>
#include <cstdlib>

namespace lumen::mpi {

#if !defined(LUMEN_WITH_MPI)
// A build without MPI: one process, and errors that say how to get data parallelism.
bool built_with_mpi() { return false; }
std::string library_version() { return ""; }
World start() {
  LUMEN_FAIL(
      "this process was started by an MPI launcher, but this Lumen was built without MPI: "
      "install Open MPI (libopenmpi-dev) and build again, or run lumen without mpirun/srun");
}
void finish() {}
void abandon() {}
void abort_job(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}
void set_silence_limit(double) {}
std::string rank_name(int rank) { return "rank " + std::to_string(rank); }
std::string silent_ranks(double) { return ""; }
#endif

}  // namespace lumen::mpi
