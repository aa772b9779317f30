// The optimizer cases test_optim and test_optim_cuda share: the parameters, gradients and
// learning rates of tests/fixtures/optim_steps.safetensors (made by tools/fixtures/optim.py), and
// one factory per optimizer configuration the fixture holds results for.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd/parameters.h"
#include "engine/train/optimizer.h"

namespace lumen::testing::optim_cases {

// The fixture's parameters: name and shape.
extern const std::vector<std::pair<std::string, Shape>> kShapes;

// Every tensor of the fixture ("init.NAME", "gradSTEP.NAME", "lrs", "CONFIG.NAME", ...).
const std::map<std::string, Tensor>& fixture();

// The fixture's parameters at their initial values, in one flat buffer of `dtype` on `device`.
std::unique_ptr<ParameterBuffer> make_params(DType dtype, Device device = Device::cpu());

// Sets every gradient to the fixture's gradient of step `step`.
void set_grads(ParameterBuffer& params, int step);

using Factory = std::function<std::unique_ptr<Optimizer>(ParameterBuffer&)>;

// One optimizer per configuration of the fixture, by its name there.
std::map<std::string, Factory> configs();

// Steps [first, last) with the fixture's gradients and learning rates.
void run_steps(ParameterBuffer& params, Optimizer& opt, int first = 0, int last = 3);

}  // namespace lumen::testing::optim_cases
