// How a process learns that a launcher started it as one rank of a data-parallel job, before MPI
// is started. Lumen starts MPI only then (as JAX's and Lightning's cluster detection do), so that
// a plain `lumen train` never pays for, or depends on, MPI's singleton start:
//   Open MPI's mpirun / mpiexec   OMPI_COMM_WORLD_SIZE
//   PMIx launchers                PMIX_RANK (srun --mpi=pmix, prterun, Open MPI 5)
//   PMI launchers                 PMI_RANK or PMI_SIZE (MPICH's and Intel MPI's mpiexec,
//                                 srun --mpi=pmi2)
//   srun without a PMI plugin     SLURM_STEP_NUM_TASKS > 1; MPI then cannot connect the tasks,
//                                 which the session reports, naming --mpi=pmix
#pragma once

#include <string>

namespace lumen {

// The launcher that started this process as a rank ("mpirun", "srun", ...), or "" when none did.
std::string mpi_launcher();
// The number of tasks the launcher started, from its environment (0 when it does not say).
int launcher_world_size();

// OpenMP threads for a rank, unless OMP_NUM_THREADS is given: the cores its CPU affinity allows
// when the launcher bound it to some of the machine's cores, else the machine's cores divided by
// the ranks on this node. Sets OMP_NUM_THREADS and returns true when it did (libgomp reads it once
// at load: the program must then execute itself again, before MPI starts). Does nothing without a
// launcher.
bool set_rank_thread_default();

// One line for `lumen devices`: whether this build can train data-parallel, and how to launch it.
std::string data_parallel_support();

}  // namespace lumen
