#!/usr/bin/env bash
# Build the one-folder app with PyInstaller and archive it: `make dist [FLAVOUR=cpu|gpu]`.
# Result: dist/<flavour>/cardgrader/ (run dist/<flavour>/cardgrader/cardgrader) and
# dist/cardgrader-<version>-<os>-<machine>-<flavour>.tar.gz; prints both sizes.
# DIST_DIR and BUILD_DIR move dist/ and build/ elsewhere (the packaging test builds in a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLAVOUR=${FLAVOUR:-cpu}
case "$FLAVOUR" in cpu|gpu) ;; *) echo "FLAVOUR must be cpu or gpu; got '$FLAVOUR'." >&2; exit 2 ;; esac

version=$($PY -c "import cardgrader; print(cardgrader.__version__)")
os_name=$(uname -s | tr '[:upper:]' '[:lower:]')
machine=$(uname -m)
dist=${DIST_DIR:-dist}
out="$dist/$FLAVOUR"
work="${BUILD_DIR:-build}/pyinstaller-$FLAVOUR"
start=$(date +%s)
# PYTHONWARNINGS: PyInstaller imports every torch submodule to list them, and many warn that they are deprecated.
PYTHONWARNINGS=ignore CARDGRADER_FLAVOUR=$FLAVOUR $PY -m PyInstaller build.spec --noconfirm --log-level WARN \
  --distpath "$out" --workpath "$work"
app="$out/cardgrader"
if [ "$os_name" = linux ]; then
  # Beside the executable, where a desktop's file manager and an installer script look for them.
  cp assets/cardgrader.desktop assets/cardgrader.png "$app/"
fi
archive="$dist/cardgrader-$version-$os_name-$machine-$FLAVOUR.tar.gz"
tar -C "$out" -czf "$archive" cardgrader
built=$(( $(date +%s) - start ))
unpacked=$(du -sm "$app" | cut -f1)
packed=$(( $(stat -c %s "$archive") / 1048576 ))
echo "dist: $app ($unpacked MiB unpacked), $archive ($packed MiB), built in ${built} s"
