#!/usr/bin/env bash
# `npm test`: install what is missing, build, run every suite, print one
# "N passed, N failed" line (vitest's own summary is not read by CI).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/test-results"
rm -rf "$results"; mkdir -p "$results"

cleanup() {
  # Only namespaces this suite made ("kwt" prefix, test/helpers/netns.ts).
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^kwt' || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT

bash test/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
npx tsc -p tsconfig.json || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
run_pass() { # name, extra vitest args...
  local name=$1; shift
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results/$name.json" "$@" || status=1
}

# 1. unit: pure logic, loopback servers — parallel
if compgen -G "test/unit/**/*.test.ts" >/dev/null || ls test/unit/*.test.ts >/dev/null 2>&1; then
  run_pass unit test/unit
fi
# 2. system: namespaces, real daemons — one file at a time (2-core machine)
sysdirs=()
for d in test/netns test/interop test/obs test/snmp test/alerts test/lvs; do
  ls "$d"/*.test.ts >/dev/null 2>&1 && sysdirs+=("$d")
done
if [ ${#sysdirs[@]} -gt 0 ]; then
  run_pass system --no-file-parallelism "${sysdirs[@]}"
fi
# 3. IPVS inside a User-Mode-Linux kernel
if [ -x test/ipvs/run-in-uml.sh ] && ls test/ipvs/*.test.ts >/dev/null 2>&1; then
  test/ipvs/run-in-uml.sh npx vitest run --no-file-parallelism --reporter=default --reporter=json \
    --outputFile.json="$results/ipvs.json" test/ipvs || status=1
fi

node test/summary.cjs "$results" || status=1
exit $status
