#!/usr/bin/env bash
# System packages the build and the tests need (Debian/Ubuntu). Safe to run twice.
#   cmake, g++, make     the native engine (cmake-js drives cmake)
#   nlohmann-json3-dev   JSON parsing in the engine's checkpoint loader
#   chromium             the end-to-end tests drive Debian's Chromium with playwright-core
# `--build` checks only what building the engine needs (npm start runs it that way; npm test
# runs it without). Exit 0 when everything is present or was installed; 1 when something is
# missing and could not be installed — the message then names the exact command to run.
set -euo pipefail
BUILD_PKGS=(cmake g++ make nlohmann-json3-dev)
TEST_PKGS=(chromium)
PKGS=("${BUILD_PKGS[@]}")
if [ "${1:-}" != "--build" ]; then PKGS+=("${TEST_PKGS[@]}"); fi

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  # Not Debian/Ubuntu: no package names to check, so check for the tools themselves.
  need=()
  command -v cmake >/dev/null 2>&1 || need+=(cmake)
  command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || command -v clang++ >/dev/null 2>&1 || need+=("a C++17 compiler")
  command -v make >/dev/null 2>&1 || command -v ninja >/dev/null 2>&1 || need+=(make)
  if [ ${#need[@]} -eq 0 ]; then echo "system packages: no dpkg/apt-get here; cmake and a compiler are present (the engine also needs nlohmann-json 3)"; exit 0; fi
  echo "system packages missing: ${need[*]}; not a Debian/Ubuntu system, so install them (and nlohmann-json 3) with this system's package manager" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system packages: all present"; exit 0; fi
echo "system packages missing: ${missing[*]}"
CMD="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "cannot install them: not root and no sudo. As root, run:" >&2
    echo "  $CMD" >&2
    exit 1
  fi
  # sudo that needs a password can only ask on a terminal.
  if ! sudo -n true >/dev/null 2>&1 && [ ! -t 0 ]; then
    echo "cannot install them: sudo needs a password and there is no terminal to ask on. Run:" >&2
    echo "  sudo sh -c '$CMD'" >&2
    exit 1
  fi
  SUDO=sudo
  echo "installing with sudo: $CMD"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq || ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "installing the system packages failed (see above). Run:" >&2
  if [ -n "$SUDO" ]; then echo "  sudo sh -c '$CMD'" >&2; else echo "  $CMD" >&2; fi
  exit 1
fi
