#!/usr/bin/env bash
# Prove the archived app works on this machine: `make dist-check [FLAVOUR=cpu|gpu]` (after `make dist`).
#  1. unpack the archive into a fresh folder (what a user gets; nothing from the source tree is used);
#  2. the frozen `self-test` in a network namespace with no network at all, every connect() traced:
#     it must pass, and no IPv4/IPv6 connection may have been attempted;
#  3. the frozen GUI under Xvfb: `--demo --exit-after-train` trains through the real panels, with a screenshot;
#  4. start-up, frozen against unfrozen in the same run, alternating, STARTUP_ROUNDS (3) rounds each
#     (the demo's startup_seconds: process start to window shown);
#  5. the CPU flavour's question: with the bundled nvidia/ libraries moved away, does torch still import?
# DIST_DIR: where `make dist` put the archive (dist/ by default); the check's files go to $DIST_DIR/check-<flavour>.
set -euo pipefail
cd "$(dirname "$0")/.."
FLAVOUR=${FLAVOUR:-cpu}
dist=${DIST_DIR:-dist}
PY=${PY:-.venv/bin/python}
version=$($PY -c "import cardgrader; print(cardgrader.__version__)")
archive="$dist/cardgrader-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)-$FLAVOUR.tar.gz"
[ -f "$archive" ] || { echo "No $archive: run 'make dist FLAVOUR=$FLAVOUR' first." >&2; exit 2; }
for tool in xvfb-run strace unshare; do
  command -v $tool >/dev/null || { echo "dist-check needs $tool (make system-deps installs it)." >&2; exit 2; }
done
check=$(mktemp -d /tmp/cardgrader-dist-check-XXXX)
out="$dist/check-$FLAVOUR"
rm -rf "$out"; mkdir -p "$out"
trap 'rm -rf "$check"' EXIT
tar -C "$check" -xzf "$archive"
exe="$check/cardgrader/cardgrader"
echo "== unpacked $archive into $check: $(du -sm "$check/cardgrader" | cut -f1) MiB"

echo "== 1. frozen self-test, no network (unshare -n), connect() traced"
export CARDGRADER_HOME="$check/home"   # nothing of the user's is touched
start=$SECONDS
# Each app run has a time limit, so a hang fails the check in minutes instead of holding it.
timeout 600 unshare -n xvfb-run -a -s "-screen 0 1440x900x24" \
  strace -f -qq -e trace=connect -o "$out/connect.trace" "$exe" self-test | tee "$out/self-test.txt"
echo "self-test wall time: $((SECONDS - start)) s"
inet=$(grep -c -E "sa_family=AF_INET6?[,}]" "$out/connect.trace" || true)
echo "connect() calls traced: $(grep -c 'connect(' "$out/connect.trace" || true), to IPv4/IPv6 addresses: $inet"
[ "$inet" = 0 ] || { grep -E "AF_INET" "$out/connect.trace" | head; echo "the frozen self-test tried the network" >&2; exit 1; }

echo "== 2. frozen GUI: --demo --exit-after-train under Xvfb"
timeout 600 xvfb-run -a -s "-screen 0 1440x900x24" "$exe" gui --demo --stats "$out/frozen-stats.json" \
  --screenshot "$out/frozen-gui.png" --exit-after-train
cat "$out/frozen-stats.json"; echo

echo "== 3. start-up, frozen against unfrozen (same run, alternating, ${STARTUP_ROUNDS:=3} rounds each)"
for round in $(seq 1 "$STARTUP_ROUNDS"); do
  for kind in frozen unfrozen; do
    if [ $kind = frozen ]; then app=("$exe"); else app=("$PY" -m cardgrader); fi
    CARDGRADER_HOME="$check/home-startup" timeout 600 xvfb-run -a -s "-screen 0 1440x900x24" "${app[@]}" gui --demo \
      --stats "$out/$kind-startup-$round.json" --exit-after-train
  done
done
"$PY" scripts/startup_summary.py "$out"

if [ "$FLAVOUR" = cpu ] && [ -d "$check/cardgrader/_internal/nvidia" ]; then
  echo "== 4. without the bundled nvidia/ libraries (moved away): does torch import on this CPU?"
  mv "$check/cardgrader/_internal/nvidia" "$check/nvidia.away"
  "$exe" doctor --json | "$PY" -c "import json,sys; c=[x for x in json.load(sys.stdin)['checks'] if x['name']=='torch']; print('torch:', c[0]['ok'] if c else '?', c[0]['detail'] if c else '')" || true
  mv "$check/nvidia.away" "$check/cardgrader/_internal/nvidia"
  echo "nvidia/ in the cpu flavour: $(du -sm "$check/cardgrader/_internal/nvidia" | cut -f1) MiB; triton: $( [ -d "$check/cardgrader/_internal/triton" ] && echo bundled || echo left out)"
fi
echo "dist-check passed: $archive"
