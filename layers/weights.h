// Backbone weights in and out, in torchvision's format: the keys of the module tree
// ("conv1.weight", "bn1.running_mean", "layer2.0.downsample.0.weight", "...num_batches_tracked")
// and PyTorch layouts (convolution weights OIHW; Lumen keeps them OHWI and converts here, at the
// boundary). A file written by save_backbone loads into torchvision.models.resnet18() with
// strict=True except for "fc"; a torchvision state dict saved as safetensors loads here.
#pragma once

#include <map>
#include <string>

#include "layers/module.h"

namespace lumen {

// Convolution weight layouts: OHWI (Lumen) <-> OIHW (PyTorch), on the host, f32 (f64 stays f64).
Tensor ohwi_to_oihw(const Tensor& w);
Tensor oihw_to_ohwi(const Tensor& w);

// One tensor in checkpoint (PyTorch) layout: 4-D convolution weights OIHW as CPU copies, every
// other tensor as it is (live). Every checkpoint Lumen writes follows this rule.
Tensor to_checkpoint_layout(const Tensor& live);
// The shape a live tensor has in checkpoint layout.
Shape checkpoint_shape(const Tensor& live);
// Throws, naming `name`, unless `saved` fits `live` (its checkpoint shape; a float tensor for a
// float one).
void check_checkpoint_shape(const Tensor& live, const Tensor& saved, const std::string& name);
// Copies a tensor in checkpoint layout into a live one (checked as above).
void copy_from_checkpoint(Tensor& live, const Tensor& saved, const std::string& name);

// The module's parameters and buffers as CPU tensors in PyTorch layout (f32 parameters; i64
// num_batches_tracked of shape ()).
std::map<std::string, Tensor> backbone_state_dict(Module& net);

// Copies every parameter and buffer from `state` (PyTorch layout, any float dtype). Keys starting
// with "fc." (a classifier head the backbone does not have) are ignored; every other unknown key,
// every missing key and every shape mismatch is an error that names them.
void load_backbone_state_dict(Module& net, const std::map<std::string, Tensor>& state,
                              const std::string& source = "state dict");

// safetensors files (metadata: "format": "pt", "layout": "torchvision").
void save_backbone(Module& net, const std::string& path);
void load_backbone(Module& net, const std::string& path);

}  // namespace lumen
