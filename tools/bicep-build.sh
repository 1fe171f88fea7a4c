#!/usr/bin/env bash
# Compiles every .bicep file (bicep build) and every .bicepparam file (bicep build-params) under a
# folder, failing on any error and on any warning, so a template that only "mostly" compiles never
# passes CI.
#
# Usage: tools/bicep-build.sh [FOLDER]        FOLDER defaults to infra/ at the repository root.
# Environment:
#   BICEP_OUT_DIR  where the compiled ARM JSON goes (mirrors FOLDER's layout); a temporary folder
#                  that is removed afterwards when unset.
#
# The Bicep CLI comes from the NuGet package Azure.Bicep.CommandLine.linux-x64, restored through
# tools/bicep/Bicep.Restore.csproj; nothing is downloaded from anywhere else.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="$(cd "${1:-$repo_root/infra}" && pwd)"
restore_project="$repo_root/tools/bicep/Bicep.Restore.csproj"

if [[ -n "${BICEP_OUT_DIR:-}" ]]; then
  out_dir="$BICEP_OUT_DIR"
  mkdir -p "$out_dir"
else
  out_dir="$(mktemp -d)"
  trap 'rm -rf "$out_dir"' EXIT
fi

dotnet restore "$restore_project" --verbosity quiet >&2
# MSBuild prints the path the package's props define; normalise separators in case they are Windows-style.
bicep="$(dotnet msbuild "$restore_project" -getProperty:BicepPath | tr -d '\r' | tr '\\' '/')"
if [[ ! -f "$bicep" ]]; then
  echo "bicep-build: the Bicep CLI was not found at '$bicep' after restoring $restore_project" >&2
  exit 1
fi
if [[ ! -x "$bicep" ]]; then
  # Some NuGet extractions drop the executable bit; run a private copy rather than touching the cache.
  cp "$bicep" "$out_dir/bicep"
  chmod +x "$out_dir/bicep"
  bicep="$out_dir/bicep"
fi
echo "bicep-build: $("$bicep" --version)" >&2

mapfile -t bicep_files < <(find "$target_dir" -name '*.bicep' -type f | sort)
mapfile -t param_files < <(find "$target_dir" -name '*.bicepparam' -type f | sort)
if [[ ${#bicep_files[@]} -eq 0 ]]; then
  echo "bicep-build: no .bicep files under $target_dir" >&2
  exit 1
fi

for file in "${bicep_files[@]}" "${param_files[@]}"; do
  echo "bicep-build: ${file#"$target_dir"/}" >&2
done

# One CLI process per command (--pattern) keeps the run to seconds; a file per process took ~40 s.
log="$(mktemp)"
status=0
"$bicep" build --pattern "$target_dir/**/*.bicep" --outdir "$out_dir" >"$log" 2>&1 || status=$?
if [[ ${#param_files[@]} -gt 0 ]]; then
  "$bicep" build-params --pattern "$target_dir/**/*.bicepparam" --outdir "$out_dir" >>"$log" 2>&1 || status=$?
fi
cat "$log"
# Diagnostics look like "<file>(line,col) : Warning <code>: <message>"; warnings fail the build too.
if [[ "$status" -ne 0 ]] || grep -Eq ' : (Warning|Error) ' "$log"; then
  rm -f "$log"
  echo "bicep-build: FAILED: errors or warnings found (warnings are treated as errors)" >&2
  exit 1
fi
rm -f "$log"
echo "bicep-build: ${#bicep_files[@]} template(s) and ${#param_files[@]} parameter file(s) compiled with no warnings" >&2
