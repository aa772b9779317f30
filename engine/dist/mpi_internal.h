// What the MPI files share (they alone include <mpi.h>; compiled only with MPI).
#pragma once

// The C interface only: Open MPI's and MPICH's mpi.h add their deprecated C++ bindings otherwise.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <memory>
#include <string>

#include "engine/dist/communicator.h"

namespace lumen::mpi {

// MPI_Error_string of an MPI error code.
std::string error_text(int code);

// A communicator over a duplicate of `parent` (errors returned, not fatal) for CPU tensors.
std::shared_ptr<Communicator> make_communicator(MPI_Comm parent);

}  // namespace lumen::mpi
