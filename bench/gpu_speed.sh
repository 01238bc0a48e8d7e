#!/usr/bin/env bash
# Issue 18's GPU measurements as one prepared script (not run by CI; GPU time is scarce: one short run).
#
#   bash bench/gpu_speed.sh wheels   # here, with network: the packages the GPU machine lacks, into .whl/
#   bash bench/gpu_speed.sh run      # on the GPU machine (device `run`, carry [".whl"]), results into $OUT
#
# `run` measures, each side by side in one process:
#  1. the Open Neuromorphic benchmark's layer config on CUDA: Linear(16384 -> 16384) + LIF, batch 16,
#     500 steps, forward + backward: bioSNN's backends (eager, compile, fused, bptt) against the
#     hand-written loop, the Linear-alone floor, snnTorch, SpikingJelly (its CUDA implementations) and
#     Norse looped and under torch.compile (bench/supervised_speed.py --device cuda);
#  2. Diehl & Cook training at N = 400 and 6,400 neurons: brian2cuda's cuda_standalone against
#     cpp_standalone on the same shipped MNIST digits (bench/unsupervised_speed.py --cuda; compilation
#     excluded, SD_EXAMPLES digits each, default 50).
# PARTS="layer dc" (default both) picks the parts. Not yet run on a GPU: sizes are estimates (each part
# compiles first: inductor for the layer backends, nvcc for brian2cuda); give the device call a
# timeout that leaves time to rerun one part.
# brian2cuda 1.0b1 needs Python >= 3.12 and brian2 2.10.1: the GPU machine's python3 is 3.12.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(brian2==2.10.1 brian2cuda==1.0b1 numpy==2.3.5 snntorch==1.0.0 spikingjelly==2.0.0 nir==1.0.8 nirtorch==2.6
        loguru)
SDISTS=(norse==1.1.0)  # published as a source archive only: built here into a pure-Python wheel

case "${1:-}" in
  wheels)
    grep -qx "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >> .git/info/exclude
    mkdir -p .whl
    for w in "${WHEELS[@]}"; do
      python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform any -d .whl "$w"
    done
    for s in "${SDISTS[@]}"; do
      python3 -m pip wheel -q --no-deps --no-binary=:all: -w .whl "$s"
    done
    du -sh .whl
    ;;
  run)
    : "${OUT:=/tmp/biosnn-gpu}"; mkdir -p "$OUT"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
    if [[ " ${PARTS:-layer dc} " == *" layer "* ]]; then
    python3 bench/supervised_speed.py --part layer --device cuda --inputs 16384 --neurons 16384 --batch 16 \
      --steps 500 --repeats 3 --json "$OUT/layer-cuda.json" 2>&1 | tee "$OUT/layer-cuda.txt"
    fi
    if [[ " ${PARTS:-layer dc} " == *" dc "* ]]; then
    python3 bench/unsupervised_speed.py --neurons 400 6400 --no-baseline --standalone "${SD_EXAMPLES:-50}" \
      --cuda 2>&1 | tee "$OUT/diehl-cook-cuda.txt"
    fi
    ;;
  *)
    echo "usage: bash bench/gpu_speed.sh {wheels|run}" >&2
    exit 2
    ;;
esac
