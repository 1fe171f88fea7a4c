#!/usr/bin/env bash
# Fashion-MNIST-LT accuracy: CE, No-Aug, cRT, tau-norm, FSA (paper) and every FSA variant, chosen on a held-out
# validation split (20 % of each training class). Defaults are the FULL protocol of issue 8 (ResNet-20, 30 epochs,
# step lr x0.1 at 20 and 25, IF 10/50/100/200, 3 seeds, 6,400 Phase-II iterations) -- many CPU-hours; a GPU-less
# scaled-down run is what produced the committed results (two invocations, the second appended to the first):
#   bench/run-accuracy.sh --imbalance-factors 100 --seeds 0,1,2 --model resnet8 --epochs 8 --milestones 5,7 --finetune-iterations 2000 --sweep
#   bench/run-accuracy.sh --imbalance-factors 10,50,200 --seeds 0,1 --model resnet8 --epochs 8 --milestones 5,7 --finetune-iterations 2000 --append
# The full-protocol runs committed (fashion-mnist-lt-full-protocol-if100.md) used --imbalance-factors 100 --seeds 0, then
# --seeds 1 --append, with --output pointing elsewhere, the report copied under that name.
# Results: bench/results/fashion-mnist-lt.{md,json}, fashion-mnist-lt-runs.json, sweep-tau.png, fused-features-*.
# Phase-I checkpoints are kept under bench/work/, keyed by every Phase-I setting and the thread count (THREADS,
# default 2; results depend on it): a rerun with the same settings only loads them.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo
exec dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll accuracy \
  --imbalance-factors 10,50,100,200 --seeds 0,1,2 --model resnet20 --epochs 30 --schedule step --milestones 20,25 \
  --warmup-epochs 1 --lr 0.1 --weight-decay 2e-4 --batch-size 128 --crop-padding 2 --finetune-iterations 6400 \
  --threads "${THREADS:-2}" --output bench/results "$@"
