#!/usr/bin/env bash
# System packages the build and the tests need (Debian/Ubuntu). Safe to run twice.
#   cmake, g++      the native engine (cmake-js drives cmake)
#   nlohmann-json3-dev   JSON parsing in the engine's checkpoint loader
#   chromium        the end-to-end tests drive Debian's Chromium with playwright-core
set -euo pipefail
PKGS=(cmake g++ make nlohmann-json3-dev chromium)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system packages: all present"; exit 0; fi
echo "system packages missing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else echo "run as root: apt-get install -y ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
