#!/usr/bin/env bash
# GPU benchmark (bench/results/gpu.md): our Phase-I and extraction images/s on CUDA, alternated row by row with
# PyTorch's twin loop (bench/pytorch_phase1.py), the batched CAM against per-sample Grad-CAM, the FSA phases, and
# the accuracy protocol's 12 Phase-I backbones trained on the GPU (then Phase II anywhere:
# bench/run-accuracy.sh --phase1-device cuda --work bench/work). The measurements are bench/gpu/measure.sh.
#   bench/run-gpu.sh            on a CUDA machine with .NET 10, python3 + CUDA PyTorch and NuGet access: builds the
#                               benchmark with the CUDA TorchSharp package (-p:TorchSharpFlavor=cuda-linux) and runs
#                               it; results in $OUT (default bench/results/gpu-run), checkpoints in bench/work
#   bench/run-gpu.sh --bundle [TorchSharp repo]  on this machine: packs .gpu/bundle.tar.xz for a CUDA machine that has python3 with
#                               CUDA PyTorch but no .NET or registry (as the device machine lent here); run
#                               bench/gpu/run-bundle.sh there (results in $OUT)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --bundle ]; then exec bench/gpu/make-bundle.sh "${@:2}"; fi
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo -p:TorchSharpFlavor=cuda-linux
set +e
OUT="${OUT:-bench/results/gpu-run}"; mkdir -p "$OUT"
bench_cmd=(dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll)
WORK=bench/work
TOTAL_S="${TOTAL_S:-7200}"
start=$(date +%s)
source bench/gpu/measure.sh
