// The ResNet golden checks test_resnet and test_resnet_cuda share: a narrow network loaded with
// the weights of a fixture made by tools/fixtures/resnet.py, run forward and backward in train
// and eval mode, against PyTorch's float64 results.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "layers/resnet.h"

namespace lumen::testing::resnet_golden {

// make_resnet(name, width) with its parameters allocated on `device` and initialised from `seed`
// (the parameters outlive the test).
std::unique_ptr<ResNet> built(const std::string& name, double width, uint64_t seed = 0,
                              Device device = Device::cpu());

// The fixture's network in fp32 on `device`, train and eval mode, against PyTorch's float64
// results (tol: relative, features elementwise, gradients normwise).
void check_against_golden(const std::string& arch, double width, const std::string& path,
                          Device device = Device::cpu(), double tol = 1e-4);

}  // namespace lumen::testing::resnet_golden
