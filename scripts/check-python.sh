#!/usr/bin/env bash
# Make sure the Python that builds .venv has venv and Tk; install them from Debian when we can.
set -euo pipefail
PY=${1:-python3}
if "$PY" -c "import venv, ensurepip, tkinter" 2>/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if command -v apt-get >/dev/null 2>&1 && [ "$(command -v "$PY")" = "/usr/bin/python3" ]; then
  echo "Installing python3-venv and python3-tk from Debian..."
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv python3-tk
else
  echo "$PY lacks venv or tkinter. Install your Python's venv and Tk support (Debian/Ubuntu: apt install python3-venv python3-tk)." >&2
  exit 1
fi
