// CUDA tensors over NCCL, one rank per GPU:
//   - set up from a host communicator (MPI): rank 0's ncclGetUniqueId is broadcast through it, then
//     ncclCommInitRank on `device` (no rendezvous of our own);
//   - collectives run on a stream of their own: it waits (an event) for the work queued on the
//     tensor's stream, and the tensor's stream waits for the collective, so the host never blocks
//     and a CUDA graph can capture both;
//   - a watchdog thread checks ncclCommGetAsyncError and every collective's deadline (timeout()):
//     on an error or a collective still unfinished after it, it names the rank, the collective and
//     its number on stderr, aborts the NCCL communicator (ncclCommAbort, which ends its kernels)
//     and ends the job (MPI_Abort);
//   - every NCCL call is checked; errors name the rank, the collective and NCCL's own message.
// Compiled with CUDA only; elsewhere make_nccl_communicator fails saying so.
#pragma once

#include <memory>
#include <string>

#include "engine/dist/communicator.h"

namespace lumen {

// Every rank of `bootstrap` calls this together; device: this rank's GPU (its local rank).
std::shared_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device);

// "2.28.3" (the library loaded), or "" in a build without CUDA.
std::string nccl_version();

}  // namespace lumen
