#include "engine/autograd/tape.h"

#include <algorithm>
#include <unordered_map>

#include "engine/ops/elementwise.h"

namespace lumen {

namespace {
thread_local bool g_grad_mode = true;
thread_local GradientObserver* g_observer = nullptr;
}  // namespace

ObserveGradients::ObserveGradients(GradientObserver* observer) : previous_(g_observer) {
  g_observer = observer;
}
ObserveGradients::~ObserveGradients() { g_observer = previous_; }

Tape& Tape::current() {
  thread_local Tape tape;
  return tape;
}

bool grad_mode_enabled() { return g_grad_mode; }

NoGrad::NoGrad() : previous_(g_grad_mode) { g_grad_mode = false; }
NoGrad::~NoGrad() { g_grad_mode = previous_; }

bool needs_record(const std::vector<Tensor>& inputs) {
  if (!g_grad_mode) return false;
  for (const Tensor& t : inputs) {
    if (t.requires_grad()) return true;
  }
  return false;
}

void record_op(const char* name, Tensor& output, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!needs_record(inputs)) return;
  output.mark_non_leaf();
  Tape::current().push(TapeNode{name, std::move(inputs), output, std::move(backward)});
}

namespace {
// into += g, allocating `into` as a copy of g when it is still undefined.
void accumulate(Tensor& into, const Tensor& g) {
  if (!into.defined()) {
    into = g.clone();
  } else {
    add_inplace(into, g);
  }
}

// The gradient flowing into a non-leaf tensor. The first contribution is kept as it came (no
// copy: backward functions may return the same tensor for several inputs, e.g. add, so it is
// never written to); a second one makes a fresh sum that later ones are added into in place.
struct PendingGrad {
  Tensor grad;
  bool owned = false;
};

// For each node, the leaves (requiring grad) it is the first node of the tape to take as an input:
// once backward has passed it, their gradients are complete.
std::vector<std::vector<Tensor>> leaves_first_used(const std::vector<TapeNode>& nodes) {
  std::vector<std::vector<Tensor>> first(nodes.size());
  std::unordered_map<TensorImpl*, size_t> seen;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const Tensor& input : nodes[i].inputs) {
      if (input.is_leaf() && input.requires_grad() && seen.emplace(input.impl(), i).second) {
        first[i].push_back(input);
      }
    }
  }
  return first;
}

void accumulate(PendingGrad& into, const Tensor& g) {
  if (!into.grad.defined()) {
    into.grad = g;
  } else if (!into.owned) {
    into.grad = add(into.grad, g);
    into.owned = true;
  } else {
    add_inplace(into.grad, g);
  }
}
}  // namespace

void run_backward(const Tensor& root) {
  LUMEN_CHECK(root.defined() && root.numel() == 1,
              "backward() needs a one-element tensor (a loss), got ", root.str());
  LUMEN_CHECK(root.requires_grad(),
              "backward(): the loss does not require grad; no parameter contributed to it, or it "
              "was computed under NoGrad");
  Tape& tape = Tape::current();
  NoGrad no_grad;
  std::unordered_map<TensorImpl*, PendingGrad> grads;
  Tensor seed = Tensor::empty_like(root);
  seed.fill(1.0);
  if (root.is_leaf()) {
    Tensor g = root.grad();
    accumulate(g, seed);
    const_cast<Tensor&>(root).set_grad(g);
    tape.clear();
    return;
  }
  grads[root.impl()].grad = seed;

  auto& nodes = tape.nodes();
  const bool recorded = std::any_of(nodes.begin(), nodes.end(), [&](const TapeNode& node) {
    return node.output.impl() == root.impl();
  });
  LUMEN_CHECK(recorded,
              "backward(): the graph of this loss is gone; an earlier backward() cleared the tape "
              "(it holds one graph at a time). Call backward() on each loss before the next "
              "forward pass, or add the losses and call backward() once");
  GradientObserver* observer = g_observer;
  const std::vector<std::vector<Tensor>> ready_after =
      observer != nullptr ? leaves_first_used(nodes) : std::vector<std::vector<Tensor>>();
  for (auto node = nodes.rbegin(); node != nodes.rend(); ++node) {
    if (observer != nullptr && node != nodes.rbegin()) {
      // The node before this one (in reverse) has run: leaves it used first are complete.
      for (const Tensor& leaf : ready_after[size_t(nodes.rend() - node)]) {
        observer->gradient_ready(leaf);
      }
    }
    auto found = grads.find(node->output.impl());
    if (found == grads.end()) continue;
    Tensor grad_output = found->second.grad;
    grads.erase(found);

    std::vector<bool> needs(node->inputs.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node->inputs[i].requires_grad();
    std::vector<Tensor> input_grads = node->backward(grad_output, needs);
    LUMEN_CHECK(input_grads.size() == node->inputs.size(), "backward of ", node->name, " returned ",
                input_grads.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < input_grads.size(); ++i) {
      if (!needs[i] || !input_grads[i].defined()) continue;
      Tensor& input = node->inputs[i];
      LUMEN_CHECK(input_grads[i].shape() == input.shape(), "backward of ", node->name,
                  " produced a gradient ", input_grads[i].str(), " for input ", input.str());
      if (input.is_leaf()) {
        Tensor g = input.grad();
        accumulate(g, input_grads[i]);
        input.set_grad(g);
      } else {
        accumulate(grads[input.impl()], input_grads[i]);
      }
    }
  }
  if (observer != nullptr && !nodes.empty()) {
    for (const Tensor& leaf : ready_after[0]) observer->gradient_ready(leaf);
  }
  tape.clear();
}

}  // namespace lumen
