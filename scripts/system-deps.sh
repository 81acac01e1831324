#!/usr/bin/env bash
# Debian packages the test suite needs: a virtual X display for the GUI tests, xdotool and ImageMagick,
# and strace for the packaged app's no-network check.
set -euo pipefail
missing=()
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
command -v import >/dev/null 2>&1 || missing+=(imagemagick)
command -v strace >/dev/null 2>&1 || missing+=(strace)  # dist-check traces the frozen app's connections
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${missing[*]} (the GUI tests need a virtual display)." >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing ${missing[*]} from Debian..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
