#!/usr/bin/env bash
# The methods' benchmark: each method trained by `lumen train` and by PyTorch + lightly
# (tools/reference/ssl_methods_fashion_mnist.py) on the same images and cores, then kNN top-1 of
# both and their training speed, as one table.
# Recipe: small-image ResNet-18 at width 0.25, 32 px views, 500 training and 100 test images per
# class of Fashion-MNIST (class folders), batch 128, 10 epochs, no blur, seed 1.
#   tools/bench_methods.sh [row ...]           (default: every method, and barlowtwins:lars)
# A row is METHOD or METHOD:OPTIMIZER, the method with another of its optimizer wirings on both
# sides (Lumen's optimizer.name=OPTIMIZER, the reference's --optimizer), e.g. barlowtwins:lars.
# Multi-crop methods (swav, dino): 2 crops of 32 px and 2 of 16 px (SwaV crop_sizes 32,16 /
# crop_counts 2,2; DINO global 32, local 16, n_local_views 2), no blur; kNN at 32 px.
# Environment: PYTHON (a python with torch and lightly 1.5.26; default python3), EPOCHS (10),
# THREADS (the cores both use; default all), SEED (1), OUT (runs/bench_methods), DATA (the class
# folders; default OUT/data, written on the first run), LUMEN_BIN (build/bin/lumen).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
epochs=${EPOCHS:-10}
threads=${THREADS:-$(nproc)}
out=${OUT:-runs/bench_methods}
seed=${SEED:-1}
data=${DATA:-$out/data}
lumen=${LUMEN_BIN:-build/bin/lumen}
rows=("$@")
((${#rows[@]})) || rows=(simclr mocov2 byol simsiam nnclr dcl dclw barlowtwins barlowtwins:lars vicreg swav
                            dino)
reference=tools/reference/ssl_methods_fashion_mnist.py
mkdir -p "$out"
[[ -d $data/train ]] || "$python" $reference --write-folders "$data"
export OMP_NUM_THREADS=$threads

# The view keys of a method's preset for the recipe.
view_keys() {
  case $1 in
    swav) echo "collate.crop_sizes=32,16 collate.crop_counts=2,2 collate.gaussian_blur=0" ;;
    dino) echo "collate.global_crop_size=32 collate.local_crop_size=16 collate.n_local_views=2" \
      "collate.gaussian_blur=0,0,0" ;;
    *) echo "collate.input_size=32 collate.gaussian_blur=0" ;;
  esac
}

table=$out/table.md
echo "| method | Lumen kNN top-1 | PyTorch+lightly kNN top-1 | Lumen img/s | PyTorch img/s | speed ratio |" >"$table"
echo "| --- | --- | --- | --- | --- | --- |" >>"$table"
for row in "${rows[@]}"; do
  m=${row%%:*}
  lumen_optimizer=()
  ref_optimizer=()
  if [[ $row == *:* ]]; then
    lumen_optimizer=("optimizer.name=${row#*:}")
    ref_optimizer=(--optimizer "${row#*:}")
  fi
  name=${row/:/_}
  echo "== $row: lumen" >&2
  run=$out/lumen_$name
  log=$out/lumen_$name.log
  $lumen train method=$m input_dir=$data/train output_dir=$run overwrite=true \
    model.name=resnet-18 model.width=0.25 $(view_keys $m) \
    loader.batch_size=128 trainer.max_epochs=$epochs trainer.checkpoint_every=0 seed=$seed \
    device=cpu loader.num_workers=$threads "${lumen_optimizer[@]}" 2>"$log"
  lumen_ips=$(grep -o '[0-9.]* img/s (last epoch)' "$log" | tail -1 | cut -d' ' -f1)
  lumen_top1=$($lumen knn train_dir=$data/train test_dir=$data/test device=cpu \
    checkpoint=$run/checkpoints/last.safetensors 2>/dev/null | awk '{print $3}')
  echo "== $row: pytorch + lightly" >&2
  ref=$("$python" $reference --method $m "${ref_optimizer[@]}" --train $data/train \
    --test $data/test --epochs $epochs --threads $threads --seed $seed 2>/dev/null | tail -1)
  ref_ips=$(echo "$ref" | sed -n 's/.*img_per_s \([0-9.]*\).*/\1/p')
  ref_top1=$(echo "$ref" | sed -n 's/.*knn_top1 \([0-9.]*\).*/\1/p')
  ratio=$(awk -v a="$lumen_ips" -v b="$ref_ips" 'BEGIN { printf "%.2f", a / b }')
  echo "| $row | $lumen_top1 | $ref_top1 | $lumen_ips | $ref_ips | $ratio |" | tee -a "$table" >&2
done
cat "$table"
