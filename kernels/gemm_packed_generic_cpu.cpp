// The packed-GEMM microkernel built for generic (see kernels/gemm_ukernel.inc).
#define LUMEN_GEMM_VW 4
#define LUMEN_GEMM_NV 2
#define LUMEN_GEMM_MR 6
#define LUMEN_GEMM_RUN gemm_run_generic
#include "kernels/gemm_ukernel.inc"
