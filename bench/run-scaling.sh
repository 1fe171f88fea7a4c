#!/usr/bin/env bash
# Scaling: synthetic long-tailed features for 100, 1,000 and 10,000 classes through planning, the per-tail-class
# fusion fan-out and the FSA fine-tune (the Core functions the activities call), the plan inputs each later
# activity reads, then N trivial work items (N = the tail-class counts) fanned out on the embedded Durable engine,
# one activity per item (up to 1,000) and dealt over --fuse-activities (64) activities, as the workflow does.
# Results: bench/results/scaling.json and scaling-table.md (scaling.md holds the analysis).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo
exec dotnet bench/FeatureAug.Bench/bin/Release/net10.0/featureaug-bench.dll scaling --classes 100,1000,10000 \
  --threads "${THREADS:-2}" --output bench/results "$@"
