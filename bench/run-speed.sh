#!/usr/bin/env bash
# Speed: ours (TorchSharp) against PyTorch (Debian python3-torch) on the identical loop, run alternately
# ROUNDS times in one session; then the FSA phases against Phase I and batched CAM against per-sample Grad-CAM.
# Usage: bench/run-speed.sh [--model resnet20] [--threads 2]   (needs: apt-get install -y python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
model=resnet20; threads=2; rounds=${ROUNDS:-3}; steps=${STEPS:-20}
while [ $# -gt 0 ]; do case "$1" in --model) model=$2; shift 2;; --threads) threads=$2; shift 2;; *) echo "unknown $1"; exit 2;; esac; done
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo
log=bench/results/speed-runs.jsonl
: > "$log"
for round in $(seq "$rounds"); do
  dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll speed --model "$model" --threads "$threads" \
    --steps "$steps" --warmup 3 --skip-fsa | tee -a "$log"
  /usr/bin/python3 bench/pytorch_phase1.py --model "$model" --threads "$threads" --steps "$steps" --warmup 3 | tee -a "$log"
done
# FSA phases (extract, fuse, fine-tune at 6,400 iterations) on Fashion-MNIST-LT IF 100 against 30 Phase-I epochs.
dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll speed --model "$model" --threads "$threads" \
  --steps "$steps" --warmup 3 --epochs 30 --finetune-iterations 6400 | tee -a "$log"
/usr/bin/python3 bench/speed_report.py "$log" bench/results
