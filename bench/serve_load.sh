#!/usr/bin/env bash
# `lumen serve` under load: 1, 8 and 64 concurrent clients on 127.0.0.1 for a bounded time, each
# POSTing one JPEG to /v1/embed as fast as it is answered (wrk from Debian, one thread, a POST
# script: bench/serve_post.lua). Prints p50 / p99 latency and requests/s per client count.
#   bench/serve_load.sh [seconds] [lumen serve keys...]
#   e.g. bench/serve_load.sh 20 model.name=torchvision/resnet18 max_batch=32 max_delay_ms=2
# LUMEN (default build/bin/lumen) names the program; the image (LUMEN_BENCH_IMAGE) is a 640x480
# JPEG made with PIL when none is given (python: $LUMEN_PYTHON, python3, /usr/bin/python3, the first
# that imports PIL, as bench/torch_baseline.h looks for torch).
set -euo pipefail
seconds=${1:-20}
shift || true
lumen=${LUMEN:-build/bin/lumen}
command -v wrk >/dev/null || { echo "serve_load: wrk is not installed (apt-get install wrk)"; exit 1; }
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
image=${LUMEN_BENCH_IMAGE:-$work/image.jpg}
if [[ ! -f $image ]]; then
  python=""
  for candidate in "${LUMEN_PYTHON:-}" python3 /usr/bin/python3; do
    if [[ -n $candidate ]] && "$candidate" -c "import PIL" 2>/dev/null; then python=$candidate; break; fi
  done
  [[ -n $python ]] || { echo "serve_load: no python imports PIL; set LUMEN_BENCH_IMAGE"; exit 1; }
  "$python" -c "
from PIL import Image
import random
random.seed(0)
w, h = 640, 480
im = Image.new('RGB', (w, h))
im.putdata([((x + random.randrange(32)) % 256, (y * 2) % 256, (x * y // 64) % 256)
            for y in range(h) for x in range(w)])
im.save('$image', quality=90)"
fi
"$lumen" serve port=0 device=cpu "$@" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 600); do
  grep -q "listening on" "$work/serve.log" && break
  sleep 0.1
done
port=$(grep -o "127.0.0.1:[0-9]*" "$work/serve.log" | head -1 | cut -d: -f2)
grep "listening on" "$work/serve.log" || { cat "$work/serve.log"; exit 1; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
export LUMEN_BENCH_IMAGE=$image
# Warm-up: a few requests at each batch size the clients will make.
wrk -t1 -c8 -d3s -s bench/serve_post.lua "http://127.0.0.1:$port/v1/embed" > /dev/null
echo "| clients | requests/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- |"
for clients in 1 8 64; do
  out=$(wrk -t1 -c$clients -d${seconds}s --timeout 30s --latency -s bench/serve_post.lua \
        "http://127.0.0.1:$port/v1/embed")
  rate=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  errors=$(awk '/^lua:/ {print $4}' <<< "$out")
  echo "| $clients | $rate | $p50 | $p99 | $errors |"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "http://127.0.0.1:$port/metrics" | grep -E "^lumen_batch_size_(sum|count)" || true
kill -TERM $server
wait $server
