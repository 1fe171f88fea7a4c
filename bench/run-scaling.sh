#!/usr/bin/env bash
# Scaling: synthetic long-tailed features for 100, 1,000 and 10,000 classes through planning, the per-tail-class
# fusion fan-out and the FSA fine-tune (the Core functions the activities call), then N trivial activities fanned
# out on the embedded Durable engine (N = the tail-class counts) for the per-activity orchestration overhead.
# Results: bench/results/scaling.json and scaling-table.md (scaling.md holds the analysis).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo
exec dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll scaling --classes 100,1000,10000 \
  --threads "${THREADS:-2}" --output bench/results "$@"
