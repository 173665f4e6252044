#!/usr/bin/env bash
# Installs every Debian package that building, running and testing Catalyst Node needs.
# Idempotent: when everything is present it does nothing (no apt-get update, no network).
# Runs apt-get as root, or through sudo when started as another user.
set -euo pipefail

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
  libgtest-dev
  libspdlog-dev
  libssl-dev
  libyaml-cpp-dev
  ninja-build
  pkg-config
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

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
