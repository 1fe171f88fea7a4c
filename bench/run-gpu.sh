#!/usr/bin/env bash
# Phase-I training and extraction images/s on CUDA (one GPU), PyTorch reference loop of bench/pytorch_phase1.py:
# CIFAR-style ResNet-18 on 3x32x32 (batch 128 and 512) and the Fashion-MNIST protocol's ResNet-20 on 1x28x28.
# Usage: bench/run-gpu.sh [output.jsonl]   (needs python3 with a CUDA build of torch)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/results/gpu.jsonl}"
: > "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$out.gpu.txt" || true
for spec in "resnet18 3 32 128" "resnet18 3 32 512" "resnet20 1 28 128"; do
  set -- $spec
  python3 bench/pytorch_phase1.py --device cuda --model "$1" --channels "$2" --size "$3" --batch-size "$4" \
    --threads 8 --steps 100 --warmup 10 | tee -a "$out"
done
