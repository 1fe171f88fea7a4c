#!/usr/bin/env bash
# Packs what bench/gpu/run-bundle.sh needs on a CUDA machine that has python3 with a CUDA build of PyTorch but no
# .NET and no package registry (the device machine this project is lent): a trimmed .NET runtime, the Release
# benchmark without the CPU libtorch natives, TorchSharp's LibTorchSharp (the same binary the CPU and CUDA packages
# ship; it binds to whichever libtorch it finds, here PyTorch's CUDA one), the LibTorchSharp sources of the
# TorchSharp release we use (rebuilt there against that PyTorch when the shipped binary does not load), and the
# Fashion-MNIST files. Output: .gpu/bundle.tar.xz (ignored), under the 64 MiB the device tool carries.
# Usage: bench/gpu/make-bundle.sh [path to a dotnet/TorchSharp git checkout or bare repo at v0.107.0]
# Without that path the bundle has no LibTorchSharp sources, and run-bundle.sh cannot rebuild the binary if needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
torchsharp_repo="${1:-}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dotnet build bench/FeatureAug.Bench -c Release -v q -nologo

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime="$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)"
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$stage/dotnet/"
cp -a "$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
# Debugger, tracing, alternative GCs and assemblies the benchmark never loads: ~18 MB the carry limit cannot spare.
(cd "$stage/dotnet/shared/Microsoft.NETCore.App/$(basename "$runtime")" && rm -f createdump libmscordaccore.so libmscordbi.so \
  libcoreclrtraceptprovider.so libclrgc.so libclrgcexp.so System.Private.Xml.dll System.Private.Xml.Linq.dll \
  System.Data.Common.dll Microsoft.VisualBasic.Core.dll System.Private.DataContractSerialization.dll)

bin=bench/FeatureAug.Bench/bin/Release/net10.0
mkdir -p "$stage/app"
cp -a "$bin"/*.dll "$bin"/featureaug-bench.runtimeconfig.json "$stage/app/"
cp -a "$bin/runtimes/linux-x64/native/libLibTorchSharp.so" "$stage/app/"
# No deps.json: the host then loads the app folder's assemblies and natives, and nothing names the CPU libtorch.
# Only Microsoft.NETCore.App travels; the ASP.NET Core framework the Workflow project pulls in is never loaded here.
python3 - "$stage/app/featureaug-bench.runtimeconfig.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["runtimeOptions"].pop("frameworks", None)
config["runtimeOptions"]["framework"] = {"name": "Microsoft.NETCore.App", "version": "10.0.0"}
json.dump(config, open(path, "w"), indent=2)
PY

mkdir -p "$stage/libtorchsharp"
if [ -n "$torchsharp_repo" ]; then
  git --git-dir="$(git -C "$torchsharp_repo" rev-parse --absolute-git-dir 2>/dev/null || echo "$torchsharp_repo")" archive HEAD \
    src/Native/LibTorchSharp src/Native/Stdafx.h | tar -x -C "$stage/libtorchsharp"
else
  echo "no TorchSharp repository given: the bundle carries no LibTorchSharp sources (no rebuild fallback)"
fi

mkdir -p "$stage/fashion-mnist"
cp /usr/share/datasets/fashion-mnist/*.gz "$stage/fashion-mnist/"

mkdir -p .gpu
tar -C "$stage" -cf - dotnet app libtorchsharp fashion-mnist | xz -T2 -6 > .gpu/bundle.tar.xz
ls -la .gpu/bundle.tar.xz
