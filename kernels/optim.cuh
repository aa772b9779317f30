// Per-element math of the fused optimizer update over a flat parameter buffer, shared by the CPU
// loop and the CUDA kernel. C is the compute and storage type of the master weights (float or
// double).
//
//   SGD   (torch.optim.SGD):  d = g + wd p; momentum: buf = d on the first step, else
//                             buf = mu buf + (1 - dampening) d; d = nesterov ? d + mu buf : buf;
//                             p -= lr d
//   LARS  (lightly's LARS):   as SGD with d = (g + wd p) * trust * |p| / (|g| + wd |p| + eps) per
//                             parameter where wd != 0 and |p|, |g| != 0; otherwise d = g
//   AdamW (torch.optim.AdamW): p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//                             p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   Adam  (torch.optim.Adam): as AdamW with the weight decay coupled into the gradient (L2):
//                             g = g + wd p, no decoupled decay
#pragma once

#include <cstdint>

#include "kernels/half.cuh"

namespace lumen::kernels {

enum class OptimizerKind : int32_t { sgd = 0, lars = 1, adamw = 2, adam = 3 };

// Scalars of one step (the same for every parameter).
struct OptimizerHyper {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0;
  double momentum = 0, dampening = 0;  // SGD, LARS
  int32_t nesterov = 0;
  int32_t first_step = 0;             // momentum buffers start as the first update
  double trust_coefficient = 0.001;   // LARS
  double eps = 1e-8;                  // LARS, Adam, AdamW
  double beta1 = 0.9, beta2 = 0.999;  // Adam, AdamW
  double bias_correction1 = 1;        // 1 - beta1^t
  double sqrt_bias_correction2 = 1;   // sqrt(1 - beta2^t)
};

// One parameter of the flat buffer: elements [offset, offset + count).
struct OptimizerSegment {
  int64_t offset = 0, count = 0;
  double weight_decay = 0;
  double lr_scale = 1;  // its learning rate is lr * lr_scale (a parameter group's own lr)
  int32_t frozen = 0;   // left out of the step, state included (PyTorch: a parameter without grad)
  int64_t first_chunk = 0, num_chunks = 0;  // its chunks in the chunk table (contiguous)
};
// A piece of at most kOptimizerChunk elements of one segment: the unit of parallel work.
struct OptimizerChunk {
  int64_t segment = 0, begin = 0, end = 0;  // element range in the flat buffer
};
constexpr int64_t kOptimizerChunk = 4096;

// LARS: the weight decay and gradient scale of a parameter from its norms.
template <typename C>
LUMEN_HD void lars_factors(C p_norm, C g_norm, C weight_decay, C trust, C eps, C& wd_out,
                           C& scale_out) {
  if (weight_decay != C(0) && p_norm != C(0) && g_norm != C(0)) {
    wd_out = weight_decay;
    scale_out = trust * p_norm / (g_norm + p_norm * weight_decay + eps);
  } else {
    wd_out = C(0);
    scale_out = C(1);
  }
}

// SGD and LARS: d = (g + wd p) * scale, then momentum and the step (at lr * lr_scale).
//   buf: null without momentum
template <typename C>
LUMEN_HD void momentum_sgd_update(C& p, C g, C* buf, C wd, C scale, C lr_scale,
                                  const OptimizerHyper& h) {
  C d = (g + wd * p) * scale;
  if (h.momentum != 0) {
    const C mu = C(h.momentum);
    const C b = h.first_step ? d : mu * *buf + C(1 - h.dampening) * d;
    *buf = b;
    d = h.nesterov ? d + mu * b : b;
  }
  p -= C(h.lr) * lr_scale * d;
}

// Adam's moments and step; AdamW decays p first (decoupled), Adam adds wd p to the gradient.
template <typename C>
LUMEN_HD void adam_update(C& p, C g, C& m, C& v, C wd, C lr_scale, bool decoupled,
                          const OptimizerHyper& h) {
  if (decoupled) {
    p *= C(1) - C(h.lr) * lr_scale * wd;
  } else {
    g += wd * p;
  }
  m = C(h.beta1) * m + C(1 - h.beta1) * g;
  v = C(h.beta2) * v + C(1 - h.beta2) * g * g;
  const C denom = math_sqrt(v) / C(h.sqrt_bias_correction2) + C(h.eps);
  p -= C(h.lr / h.bias_correction1) * lr_scale * m / denom;
}

// LARS: one segment's (weight decay, scale) from the per-chunk partial sums of p^2 and g^2
// (chunk_work[2 c], chunk_work[2 c + 1]), added in chunk order.
template <typename C>
LUMEN_HD void lars_segment_factors(const OptimizerSegment& seg, const C* chunk_work,
                                   const OptimizerHyper& h, C& wd_out, C& scale_out) {
  C pp = 0, gg = 0;
  for (int64_t c = seg.first_chunk; c < seg.first_chunk + seg.num_chunks; ++c) {
    pp += chunk_work[2 * c];
    gg += chunk_work[2 * c + 1];
  }
  lars_factors(math_sqrt(pp), math_sqrt(gg), C(seg.weight_decay), C(h.trust_coefficient), C(h.eps),
               wd_out, scale_out);
}

// One element of segment s, updated by the optimizer h.kind names (callers skip frozen segments).
// state0, state1: the element's state (SGD/LARS momentum buffer; Adam/AdamW m and v), null where
// the optimizer keeps none; segment_work: the LARS factors of every segment (read for LARS only).
template <typename C>
LUMEN_HD void optimizer_update(C& p, C g, C* state0, C* state1, C decay, C lr_scale,
                               const C* segment_work, int64_t s, const OptimizerHyper& h) {
  switch (h.kind) {
    case OptimizerKind::sgd:
      momentum_sgd_update(p, g, state0, decay, C(1), lr_scale, h);
      break;
    case OptimizerKind::lars:
      momentum_sgd_update(p, g, state0, segment_work[2 * s], segment_work[2 * s + 1], lr_scale, h);
      break;
    case OptimizerKind::adam:
    case OptimizerKind::adamw: {
      C m = *state0, v = *state1;
      adam_update(p, g, m, v, decay, lr_scale, h.kind == OptimizerKind::adamw, h);
      *state0 = m;
      *state1 = v;
      break;
    }
  }
}

}  // namespace lumen::kernels
