#!/usr/bin/env bash
# Installs what Lumen needs to build and test on Debian (run as root, or with sudo available).
# Idempotent: packages already present are not installed again.
#   tools/setup.sh           build and test dependencies (chromium: the report's browser test)
#   tools/setup.sh --full    also PyTorch (CPU) for fixture scripts and benchmark baselines, and the
#                            Fashion-MNIST dataset used by the main job
#   tools/setup.sh --fixtures  --full, and the programs the fixture scripts in tools/fixtures/ call
#                            (libtiff's tiffcp, ffmpeg); CI never needs them
set -euo pipefail

packages=(cmake g++ make pkg-config doctest-dev libopenblas-openmp-dev libturbojpeg0-dev libpng-dev
          libstb-dev zlib1g-dev libtiff-dev libwebp-dev libavformat-dev libavcodec-dev
          libswscale-dev libopenmpi-dev openmpi-bin libfaiss-dev nlohmann-json3-dev libjs-chart.js
          chromium libcpp-httplib-dev)
if [[ "${1:-}" == "--full" || "${1:-}" == "--fixtures" ]]; then
  packages+=(python3-torch python3-torchvision dataset-fashion-mnist)
fi
if [[ "${1:-}" == "--fixtures" ]]; then
  packages+=(python3-pil libtiff-tools ffmpeg)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: nvcc found at /usr/local/cuda/bin; add it to PATH to build the CUDA backend"
fi
