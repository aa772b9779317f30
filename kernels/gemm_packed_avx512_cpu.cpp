// The packed-GEMM microkernel built for avx512 (see kernels/gemm_ukernel.inc).
#define LUMEN_GEMM_VW 16
#define LUMEN_GEMM_NV 4
#define LUMEN_GEMM_MR 6
#define LUMEN_GEMM_RUN gemm_run_avx512
#include "kernels/gemm_ukernel.inc"
