#include "engine/dist/communicator.h"

namespace lumen {

Tensor Communicator::all_gather(const Tensor& in) {
  check_defined(in, "all_gather");
  LUMEN_CHECK(in.ndim() >= 1, "all_gather needs a tensor with a leading dimension, got ", in.str());
  Shape shape = in.shape();
  shape[0] *= world_size();
  Tensor out = Tensor::empty_on(shape, in.dtype(), in);
  all_gather(in, out);
  return out;
}

void check_all_gather_shapes(const Tensor& in, const Tensor& out, int world_size, const char* who) {
  check_defined(in, who);
  check_defined(out, who);
  check_same_device(in, out, who);
  check_same_dtype(in, out, who);
  Shape expected = in.shape();
  LUMEN_CHECK(!expected.empty(), who, ": all_gather needs a leading dimension, got ", in.str());
  expected[0] *= world_size;
  LUMEN_CHECK(out.shape() == expected, who, ": all_gather of ", in.str(), " over ", world_size,
              " ranks needs an output of shape ", shape_str(expected), ", got ", out.str());
}

void SingleProcessCommunicator::all_gather(const Tensor& in, Tensor& out) {
  check_all_gather_shapes(in, out, 1, "SingleProcessCommunicator::all_gather");
  if (in.raw_data() != out.raw_data()) out.copy_from(in);
}

void SingleProcessCommunicator::all_reduce(Tensor& t, ReduceOp) {
  check_defined(t, "SingleProcessCommunicator::all_reduce");
}

std::shared_ptr<Communicator> single_process_communicator() {
  static const std::shared_ptr<Communicator> instance =
      std::make_shared<SingleProcessCommunicator>();
  return instance;
}

}  // namespace lumen
