// The packed-GEMM microkernel built for avx2 (see kernels/gemm_ukernel.inc).
#define LUMEN_GEMM_VW 8
#define LUMEN_GEMM_NV 2
#define LUMEN_GEMM_MR 6
#define LUMEN_GEMM_RUN gemm_run_avx2
#include "kernels/gemm_ukernel.inc"
