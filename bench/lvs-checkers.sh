#!/usr/bin/env bash
# Build and run bench/lvs-checkers.ts (1000 TCP_CHECKs: our CPU / event-loop stall, and
# keepalived's checker CPU when the kernel lets it run).
#   bash bench/lvs-checkers.sh          on this host (no IPVS here: keepalived's checker
#                                       exits at start, so only our numbers)
#   bash bench/lvs-checkers.sh --uml    inside the UML kernel with IPVS: both, side by side
#                                       (UML runs every syscall ~10x slower: compare the two
#                                       rows with each other, not with the host row)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p bench/lvs-tsconfig.json || echo "lvs-checkers: type errors above; running the emitted JS anyway" >&2
export NODE_PATH="$PWD/node_modules"
if [[ ${1:-} == --uml ]]; then
  exec test/ipvs/run-in-uml.sh env NODE_PATH="$NODE_PATH" node /tmp/kwt-bench-lvs/bench/lvs-checkers.js
fi
exec node /tmp/kwt-bench-lvs/bench/lvs-checkers.js
