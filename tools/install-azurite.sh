#!/usr/bin/env bash
# Installs the Azurite storage emulator the Blob-store tests start (tests/FeatureAug.Testing,
# AzuriteFixture) into tools/azurite/node_modules. Idempotent: does nothing when the pinned version is
# already there. Installs node and npm with apt-get when they are missing.
set -euo pipefail

# 3.35.0: the newest Azurite whose package still accepts Node 18/20 (3.36+ require Node >= 21, while
# Debian 12 ships Node 18); it serves Blob API version 2025-11-05, which BlobArtifactStore pins.
AZURITE_VERSION="3.35.0"

tools_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="$tools_dir/azurite"
entry="$prefix/node_modules/azurite/dist/src/azurite.js"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-azurite: node/npm not found; installing them with apt-get" >&2
  if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "install-azurite: need root or sudo to apt-get install nodejs npm" >&2; exit 1
  fi
  "${as_root[@]}" apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm
fi

installed=""
if [ -f "$prefix/node_modules/azurite/package.json" ]; then
  installed="$(node -p "require(process.argv[1]).version" "$prefix/node_modules/azurite/package.json" 2>/dev/null || true)"
fi
if [ "$installed" = "$AZURITE_VERSION" ] && [ -f "$entry" ]; then
  echo "install-azurite: azurite $AZURITE_VERSION already installed at $entry"
  exit 0
fi

mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --no-save --no-package-lock "azurite@$AZURITE_VERSION"
[ -f "$entry" ] || { echo "install-azurite: npm finished but $entry is missing" >&2; exit 1; }
echo "install-azurite: installed azurite $AZURITE_VERSION at $entry (node $(node --version))"
