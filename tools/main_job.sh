#!/usr/bin/env bash
# The main job: set up, build, train SimCLR on Fashion-MNIST (Debian's dataset-fashion-mnist),
# embed the test set as lightly's CSV, and print the kNN accuracy of the trained backbone beside a
# randomly initialised one.
#   On a GPU: ResNet-18 (small-image variant), all 60k training images.
#   On the CPU: a narrow ResNet-9 on a subset, so that it finishes in a few minutes on 2 cores.
# Environment: OUT_DIR (default runs/fashion-mnist), EPOCHS, LIMIT to override the recipe;
# LUMEN_BIN=path/to/lumen uses a binary built elsewhere (e.g. by tools/gpu_check.sh) and skips
# the setup and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
lumen=${LUMEN_BIN:-build/bin/lumen}
if [[ -z "${LUMEN_BIN:-}" ]]; then
  tools/setup.sh --full
  [[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$(nproc)" --target lumen_cli >/dev/null
fi
data=${LUMEN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
train_set=$data/train-images-idx3-ubyte.gz
test_set=$data/t10k-images-idx3-ubyte.gz
out=${OUT_DIR:-runs/fashion-mnist}

if $lumen devices | grep -q '^cuda'; then
  model=(model.name=resnet-18 model.width=1)
  recipe=(loader.batch_size=512 trainer.max_epochs=${EPOCHS:-20} data.limit=${LIMIT:-0})
else
  model=(model.name=resnet-9 model.width=0.25)
  recipe=(loader.batch_size=128 trainer.max_epochs=${EPOCHS:-6} data.limit=${LIMIT:-2048})
fi
common=(collate.input_size=28 "${model[@]}" seed=1)

echo "== training SimCLR on Fashion-MNIST (${model[*]} ${recipe[*]})"
$lumen train input_dir=$train_set output_dir=$out "${common[@]}" "${recipe[@]}" \
  collate.gaussian_blur=0 trainer.checkpoint_every=5 overwrite=true  # no blur on small images, as lightly's CIFAR recipe
checkpoint=$out/checkpoints/last.safetensors

echo "== embedding the test set"
$lumen embed input_dir=$test_set checkpoint=$checkpoint output=$out/embeddings_test.csv \
  "${common[@]}"

limit=$(printf '%s\n' "${recipe[@]}" | grep data.limit)
echo "== kNN accuracy (k=200, t=0.1), train set as the bank, test set as queries"
echo -n "trained backbone:  "
$lumen knn train_dir=$train_set test_dir=$test_set checkpoint=$checkpoint "${common[@]}" "$limit"
echo -n "random backbone:   "
$lumen knn train_dir=$train_set test_dir=$test_set "${common[@]}" "$limit" 2>/dev/null
