#!/usr/bin/env bash
# On a CUDA machine with python3 + CUDA PyTorch and no .NET: unpacks .gpu/bundle.tar.xz (bench/gpu/make-bundle.sh),
# runs our benchmark against PyTorch's CUDA libtorch, and leaves the results in $OUT:
#   env.txt               machine, driver, PyTorch, libtorch symbols LibTorchSharp needs that this libtorch lacks
#   speed-cuda.jsonl      featureaug-bench speed --device cuda: CIFAR ResNet-18 3x32x32 at batch 128 and 512,
#                         ResNet-20 1x28x28 at batch 128 with the FSA phases on Fashion-MNIST-LT IF 100; each row
#                         followed by the same row of bench/pytorch_phase1.py (PyTorch's loop), ROUNDS times
#   backbones-if*.tar     the full accuracy protocol's Phase-I backbones trained on the GPU, one process per (IF, seed);
#   backbones-logs.tar    each process's log
#   native-build.txt      only when LibTorchSharp had to be rebuilt
#   log.txt               everything printed
# If the shipped LibTorchSharp does not work against this libtorch, it is rebuilt from the bundled sources first.
# Env: DEVICE (cuda), ROUNDS (2), BACKBONES ("IF:seed ..."; empty = none), EPOCHS (30), MILESTONES (20,25), STEPS (100 timed steps), ITERATIONS (6400
# Phase-II iterations; smaller values only to try the script out on a CPU), SKIP_SPEED (1: backbones only), TOTAL_S (seconds the whole script may take;
# the backbones get what is left of it).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/gpu-out}"; mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
DEVICE="${DEVICE:-cuda}"
root=/tmp/featureaug-gpu
rm -rf "$root"; mkdir -p "$root"
start=$(date +%s)
xz -dc .gpu/bundle.tar.xz | tar -x -C "$root" || { echo "bundle missing: run bench/gpu/make-bundle.sh"; exit 1; }
echo "unpacked in $(( $(date +%s) - start )) s"
mkdir -p /usr/share/datasets/fashion-mnist && cp -n "$root"/fashion-mnist/*.gz /usr/share/datasets/fashion-mnist/
export DOTNET_ROOT="$root/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
TORCH_LIB="${TORCH_LIB:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}"
# PyTorch's wheels find cuBLAS/cuDNN through RPATHs into site-packages/nvidia; name them too in case a path differs.
NVIDIA_LIBS="$(python3 -c 'import glob, os, site; print(":".join(sorted({os.path.dirname(p) for d in site.getsitepackages() for p in glob.glob(d + "/nvidia/**/lib*.so*", recursive=True)})))' 2>/dev/null)"
export LD_LIBRARY_PATH="$TORCH_LIB${NVIDIA_LIBS:+:$NVIDIA_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bench_cmd=("$DOTNET_ROOT/dotnet" "$root/app/featureaug-bench.dll")
WORK="$root/work"

{
  date -u; uname -a; nproc; grep -m1 "model name" /proc/cpuinfo
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'
  echo "TORCH_LIB=$TORCH_LIB"
  nm -D --undefined-only "$root/app/libLibTorchSharp.so" | awk '{print $2}' | grep -v '@' | sort -u > "$root/needed.txt"
  for lib in libtorch.so libtorch_cpu.so libc10.so libtorch_cuda.so libc10_cuda.so; do
    [ -f "$TORCH_LIB/$lib" ] && nm -D --defined-only "$TORCH_LIB/$lib" | awk '{print $3}'
  done | sed 's/@.*//' | sort -u > "$root/defined.txt"
  echo "libtorch symbols LibTorchSharp needs: $(wc -l < "$root/needed.txt"); missing here: $(comm -23 "$root/needed.txt" "$root/defined.txt" | grep -c . )"
  comm -23 "$root/needed.txt" "$root/defined.txt" | head -50
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

probe() { timeout 150 "${bench_cmd[@]}" speed --device "$DEVICE" --model resnet20 --steps 3 --warmup 1 --cam-images 4 --skip-fsa; }
if ! probe; then
  echo "=== shipped LibTorchSharp does not run against this libtorch: rebuilding it from the TorchSharp sources"
  t=$(date +%s)
  src="$root/libtorchsharp/src/Native"
  [ -d "$src/LibTorchSharp" ] || { echo "the bundle has no LibTorchSharp sources (make-bundle.sh was given no TorchSharp repository)"; exit 3; }
  cat > "$src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(LibTorchSharp CXX C)
find_package(Torch REQUIRED)
file(GLOB SOURCES LibTorchSharp/*.cpp LibTorchSharp/*.c)
add_library(LibTorchSharp SHARED ${SOURCES})
target_include_directories(LibTorchSharp PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/LibTorchSharp)
target_link_libraries(LibTorchSharp ${TORCH_LIBRARIES})
set_target_properties(LibTorchSharp PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
target_compile_options(LibTorchSharp PRIVATE -O2 -w)
CMAKE
  cmake -S "$src" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')" > "$OUT/native-build.txt" 2>&1 \
    && ninja -C "$root/build" -k 0 -j "$(nproc)" >> "$OUT/native-build.txt" 2>&1 \
    && cp "$root/build/libLibTorchSharp.so" "$root/app/libLibTorchSharp.so"
  echo "rebuild finished (rc $?) in $(( $(date +%s) - t )) s"; tail -30 "$OUT/native-build.txt"
  probe || { echo "=== still not running"; exit 3; }
fi

source bench/gpu/measure.sh
echo "total $(( $(date +%s) - start )) s"
