#!/usr/bin/env bash
# Downloads (does not install) the Debian packages Lumen builds against into .deps/, for a GPU
# machine that has no package registry: carry .deps/ there and tools/gpu_check.sh unpacks it
# (Fashion-MNIST included, for the slow SimCLR test and the training-throughput figure).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
cd .deps
apt-get download doctest-dev libopenblas-dev libopenblas-openmp-dev libopenblas0-openmp \
  libopenblas0 libgfortran5 libturbojpeg0-dev libturbojpeg0 libjpeg62-turbo libjpeg62-turbo-dev \
  libpng-dev libpng16-16 libstb-dev libstb0 zlib1g-dev dataset-fashion-mnist
ls -1 *.deb
