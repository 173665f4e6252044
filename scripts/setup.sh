#!/usr/bin/env bash
# Installs every Debian package that building, running and testing Catalyst Node needs, plus
# Node.js and the pinned npm packages of the Cap'n Web interop tests (test/interop/js).
# Idempotent: when everything is present it does nothing (no apt-get update, no network).
# Runs apt-get as root, or through sudo when started as another user; npm runs as the caller.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Keep this list sorted; each entry is a Debian 12 (bookworm) package name.
packages=(
  clang-14
  clang-format-14
  clang-tidy-14
  cmake
  curl
  g++
  git
  libbenchmark-dev
  libboost-json1.81-dev
  libboost1.81-dev
  libclang-rt-14-dev
  libcli11-dev
  libfmt-dev
  libgmock-dev
  libgrpc++-dev
  libgtest-dev
  libmimalloc-dev
  libprotobuf-dev
  libspdlog-dev
  libssl-dev
  libyaml-cpp-dev
  ninja-build
  pkg-config
  protobuf-compiler
  protobuf-compiler-grpc
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
# The interop tests run the reference Cap'n Web implementation (npm capnweb) on Node.js. A node
# and npm already on PATH (whatever installed them) are kept; otherwise Debian's are installed.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages of the interop tests, exactly as pinned in package-lock.json (`npm ci`), redone
# only when package.json or package-lock.json changed since the last successful install.
# capnweb 0.12.0 needs Node.js 18 or newer (Debian 12 ships 18.19).
node_version=$(node --version 2>/dev/null || echo none)
node_major=${node_version#v}
node_major=${node_major%%.*}
if [[ ! "$node_major" =~ ^[0-9]+$ ]] || ((node_major < 18)); then
  echo "setup: the Cap'n Web interop tests need Node.js 18 or newer (capnweb 0.12.0 uses fetch," \
    "ReadableStream and structuredClone), but 'node' on PATH is $node_version ($(command -v node))." \
    "Install Node.js >= 18 first (on Debian 12: apt-get install nodejs npm, which gives 18.19+)." >&2
  exit 1
fi
# deps/envoy-api: Envoy's v3 API protos (in @grpc/grpc-js-xds), which the build compiles into a
# descriptor set for the Envoy renderer's validator and the xDS server, and a real xDS client.
for dir in test/interop/js deps/envoy-api; do
  stamp=$root/$dir/node_modules/.setup-stamp
  if ! cat "$root/$dir/package.json" "$root/$dir/package-lock.json" | cmp -s - "$stamp"; then
    echo "setup: npm ci in $dir" >&2
    (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cat "$root/$dir/package.json" "$root/$dir/package-lock.json" >"$stamp"
  fi
done
