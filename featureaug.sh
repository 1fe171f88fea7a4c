#!/usr/bin/env bash
# FeatureAug entry point.
#   ./featureaug.sh run [options]   installs what the main job needs, builds (Release), runs `featureaug run`
#   ./featureaug.sh test            installs what the tests need, builds, runs every test
#   ./featureaug.sh cli <command>   any other featureaug command (status, report, models, ...)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_root_apt() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" -ne 0 ]; then echo "featureaug.sh: installing '$*' needs root (apt-get)" >&2; return 1; fi
}

apt_install() {
  need_root_apt "$@" || return 1
  if ! apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "$@" >/dev/null
  fi
}

ensure_fashion_mnist() {
  if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    echo "Installing Debian package dataset-fashion-mnist ..." >&2
    # Without apt the CLI downloads the official files itself (SHA-256 checked).
    apt_install dataset-fashion-mnist || echo "featureaug.sh: dataset-fashion-mnist not installed; the CLI will download Fashion-MNIST" >&2
  fi
}

build_cli() {
  dotnet build "$ROOT/src/FeatureAug.Cli/FeatureAug.Cli.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
}

cmd=${1:-}
case "$cmd" in
  run)
    shift
    ensure_fashion_mnist
    build_cli
    exec dotnet "$ROOT/src/FeatureAug.Cli/bin/Release/net10.0/featureaug.dll" run "$@"
    ;;
  cli)
    shift
    build_cli
    exec dotnet "$ROOT/src/FeatureAug.Cli/bin/Release/net10.0/featureaug.dll" "$@"
    ;;
  test)
    shift
    ensure_fashion_mnist
    bash "$ROOT/tools/install-azurite.sh"
    dotnet build "$ROOT/FeatureAugFunctions.sln" -c Release -nologo -clp:ErrorsOnly
    # The publish output the container image copies: a broken publish fails here, not at image build.
    bash "$ROOT/tools/publish-functions.sh" cpu >/dev/null
    log=$(mktemp)
    set +e
    dotnet test "$ROOT/FeatureAugFunctions.sln" -c Release --no-build -nologo \
      --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    # One closing line over every test assembly.
    awk '/^ +Passed: [0-9]+$/ {p += $2} /^ +Failed: [0-9]+$/ {f += $2} END {printf "%d passed, %d failed\n", p, f}' "$log"
    rm -f "$log"
    exit "$status"
    ;;
  *)
    echo "usage: ./featureaug.sh run [options] | test | cli <command> [options]" >&2
    exit 2
    ;;
esac
