#!/usr/bin/env bash
# Publishes the Functions app exactly as the Dockerfile's build stage does, so CI (which has no
# Docker) fails on a broken publish before an image build would.
#
# Usage: tools/publish-functions.sh [TORCH_FLAVOR] [OUTPUT_DIR]
#   TORCH_FLAVOR  cpu (default) or cuda-linux; the CUDA packages are large, CI uses cpu.
#   OUTPUT_DIR    defaults to out/publish/functions-<flavor> under the repository root.
# tests/FeatureAug.Deployment.Tests checks that these arguments stay the Dockerfile's.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_FLAVOR="${1:-cpu}"
output_dir="${2:-$repo_root/out/publish/functions-$TORCH_FLAVOR}"
project="$repo_root/src/FeatureAug.Functions/FeatureAug.Functions.csproj"

if [[ "$TORCH_FLAVOR" != "cpu" && "$TORCH_FLAVOR" != "cuda-linux" ]]; then
  echo "publish-functions: TORCH_FLAVOR must be 'cpu' or 'cuda-linux', not '$TORCH_FLAVOR'" >&2
  exit 2
fi

dotnet restore "$project" \
    -r linux-x64 -p:TorchSharpFlavor=$TORCH_FLAVOR
dotnet publish "$project" \
    -c Release -r linux-x64 --self-contained false \
    -p:TorchSharpFlavor=$TORCH_FLAVOR -p:TorchSharpWeakGlibcxx=true \
    -o "$output_dir"

# The image copies this folder; without TorchSharp's native library the app cannot load a tensor.
torchsharp_native="$output_dir/libLibTorchSharp.so"
if [[ ! -f "$torchsharp_native" ]]; then
  echo "publish-functions: $torchsharp_native is missing from the publish output" >&2
  exit 1
fi
echo "publish-functions: published $project ($TORCH_FLAVOR) to $output_dir"
