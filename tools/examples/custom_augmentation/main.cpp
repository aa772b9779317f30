// lumen train with a custom augmentation stage:
//   example_custom_augmentation input_dir=images [any key of lumen train]
// inverts the colours of the second view of every sample with probability 0.5. Built with CUDA,
// the stage has its fused GPU version and runs on either device; without, CPU runs only.
#include <cstdio>
#include <string>
#include <vector>

#include "api/lumen.h"
#include "tools/examples/custom_augmentation/invert_colors.h"

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const lumen::Config config = lumen::train_config(args);
#if defined(LUMEN_WITH_CUDA)
    const lumen::CustomStage invert = example::invert_colors(0.5f);
#else
    const lumen::CustomStage invert = example::invert_colors_cpu(0.5f);
#endif
    const std::string checkpoint = lumen::train_embedding_model(
        config, [&](lumen::TransformConfig& views) { views.views.at(1).custom = invert; });
    std::printf("checkpoint: %s\n", checkpoint.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_custom_augmentation: %s\n", e.what());
    return 1;
  }
}
