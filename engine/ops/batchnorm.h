// Batch normalisation with autograd over the last dim of channel-last tensors: (N, C) for
// BatchNorm1d, (N, H, W, C) for BatchNorm2d.
//   weight, bias: (C) or undefined (affine=false); running_mean, running_var: (C) or undefined
//   All of them are f32 for f32/bf16/f16 activations and f64 for f64 activations.
// training: normalises with the batch statistics and, when the running buffers are defined,
//   updates them in place as PyTorch does (momentum, unbiased variance).
// eval: normalises with the running buffers (with the batch statistics when they are undefined,
//   as PyTorch does for track_running_stats=False).
// tail: y = relu?(batch_norm(x) + residual?) in the same pass over memory, forward and backward
//   (the end of every ResNet block); residual has x's shape, dtype and device.
// sync (training only, more than one rank): torch's SyncBatchNorm. The statistics are those of
//   every rank's batch: each rank's (mean, biased variance, count) gathered and combined in rank
//   order, the running buffers updated with them on every rank alike. Backward all-reduces the
//   per-channel sums of the input gradient (sum dy, sum dy * xhat) so that dx is that of the
//   whole batch; the weight and bias gradients stay this rank's own, as torch's, for the gradient
//   all-reduce that follows backward to average. One all_gather forward and one all_reduce
//   backward per call, on x's device (CPU: MPI, GPU: NCCL).
#pragma once

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct BatchNormTail {
  Tensor residual;    // added after the affine transform; undefined: none
  bool relu = false;  // max(., 0) last
};

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5, const BatchNormTail& tail = {},
                  Communicator* sync = nullptr);

}  // namespace lumen
