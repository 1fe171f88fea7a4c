#!/usr/bin/env bash
# GPU benchmark (bench/results/gpu.md): our Phase-I and extraction images/s on CUDA, alternated row by row with
# PyTorch's twin loop (bench/pytorch_phase1.py), the batched CAM against per-sample Grad-CAM, the FSA phases, and
# the accuracy protocol's Phase-I backbones trained on the GPU.
#   bench/run-gpu.sh            on a CUDA machine with .NET 10 and NuGet access: builds the benchmark with the CUDA
#                               TorchSharp package (-p:TorchSharpFlavor=cuda-linux) and runs it there
#   bench/run-gpu.sh --bundle   on this machine: packs .gpu/bundle.tar.xz for a CUDA machine that has python3 with
#                               CUDA PyTorch but no .NET or registry (as the device machine lent here); run
#                               bench/gpu/run-bundle.sh there (results in $OUT)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --bundle ]; then exec bench/gpu/make-bundle.sh; fi
out="${OUT:-bench/results/gpu-run}"
mkdir -p "$out"
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo -p:TorchSharpFlavor=cuda-linux
bin=bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll
: > "$out/speed-cuda.jsonl"
for round in 1 2; do
  for spec in "resnet18 3 32 128" "resnet18 3 32 512" "resnet20 1 28 128"; do
    read -r model channels size batch <<< "$spec"
    row=(--device cuda --model "$model" --channels "$channels" --size "$size" --batch-size "$batch" --threads 8 --steps 100 --warmup 10)
    fsa=(--skip-fsa); [ "$model" = resnet20 ] && fsa=()
    dotnet "$bin" speed "${row[@]}" "${fsa[@]}" | tee -a "$out/speed-cuda.jsonl"
    python3 bench/pytorch_phase1.py "${row[@]}" | tee -a "$out/speed-cuda.jsonl"
  done
done
# Phase-I backbones of the full accuracy protocol (ResNet-20, 30 epochs, IF 10/50/100/200 x seeds 0-2) on the GPU,
# then Phase II wherever: bench/run-accuracy.sh --phase1-device cuda --work <this work folder>.
for imbalance in 10 50 100 200; do for seed in 0 1 2; do
  dotnet "$bin" accuracy --phase1-only --phase1-device cuda --imbalance-factors "$imbalance" --seeds "$seed" \
    --model resnet20 --epochs 30 --schedule step --milestones 20,25 --warmup-epochs 1 --lr 0.1 --weight-decay 2e-4 \
    --batch-size 128 --crop-padding 2 --threads 2 --work bench/work > "$out/phase1-if$imbalance-s$seed.txt" 2>&1 &
done; done
wait
tail -n 1 "$out"/phase1-*.txt
