#include "engine/dist/nccl_communicator.h"

namespace lumen {

#if !defined(LUMEN_WITH_CUDA)
// A CPU-only build has no CUDA tensors, so no NCCL communicator.
std::shared_ptr<Communicator> make_nccl_communicator(Communicator&, int) {
  LUMEN_FAIL("this Lumen was built without CUDA, so without NCCL; use device=cpu");
}
std::string nccl_version() { return ""; }
#endif

}  // namespace lumen
