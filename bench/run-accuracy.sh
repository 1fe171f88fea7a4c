#!/usr/bin/env bash
# Fashion-MNIST-LT accuracy: CE, No-Aug, cRT, tau-norm, FSA (paper) and every FSA variant, chosen on a held-out
# validation split (20 % of each training class). Defaults are the FULL protocol of issue 8 (ResNet-20, 30 epochs,
# step lr x0.1 at 20 and 25, IF 10/50/100/200, 3 seeds, 6,400 Phase-II iterations).
# The committed results (bench/results/fashion-mnist-lt.{md,json}, fashion-mnist-lt-runs.json, sweep-tau.png,
# fused-features-*) trained the 12 Phase-I backbones on a GPU (bench/run-gpu.sh; `--phase1-only --phase1-device
# cuda`, ~35 s each on an H200 against 16-23 minutes on 2 CPU cores) and ran Phase II here on the CPU:
#   bench/run-accuracy.sh --phase1-device cuda --imbalance-factors 100,10,50,200 --sweep --work <folder with the backbones>
# (a backbone already trained is only loaded, on the CPU). Other committed runs:
#   Phase I on the CPU (fashion-mnist-lt-full-protocol-cpu-phase1.md): --imbalance-factors 100 --seeds 0, then
#   --seeds 1 and --seeds 2 with --append, then --imbalance-factors 50 --seeds 0 --append, with --output elsewhere.
#   Scaled down (fashion-mnist-lt-scaled-down.md; ResNet-8, 8 epochs, two invocations, the second appended):
#   --imbalance-factors 100 --seeds 0,1,2 --model resnet8 --epochs 8 --milestones 5,7 --finetune-iterations 2000 --sweep
#   --imbalance-factors 10,50,200 --seeds 0,1 --model resnet8 --epochs 8 --milestones 5,7 --finetune-iterations 2000 --append
# Phase-I checkpoints are kept under bench/work/ (--work), keyed by every Phase-I setting, the thread count (THREADS,
# default 2; results depend on it) and the Phase-I device unless cpu: a rerun with the same settings only loads them.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo
exec dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll accuracy \
  --imbalance-factors 10,50,100,200 --seeds 0,1,2 --model resnet20 --epochs 30 --schedule step --milestones 20,25 \
  --warmup-epochs 1 --lr 0.1 --weight-decay 2e-4 --batch-size 128 --crop-padding 2 --finetune-iterations 6400 \
  --threads "${THREADS:-2}" --output bench/results "$@"
