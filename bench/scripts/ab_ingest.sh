#!/bin/bash
# Alternating file-ingest runs: for each round, each binary ingests FILE into a fresh store
# (/tmp/trib_ab_store) and prints its wall, user and system seconds and peak RSS (KB).
#   bench/scripts/ab_ingest.sh FILE ROUNDS "EXTRA ARGS" BIN...
set -euo pipefail
file=$1 rounds=$2 extra=$3
shift 3
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    rm -rf /tmp/trib_ab_store
    # shellcheck disable=SC2086
    t=$({ /usr/bin/time -f "%e %U %S %M" "$bin" ingest $extra --data /tmp/trib_ab_store "$file" >/dev/null; } 2>&1 | tail -1)
    echo "$(basename "$bin") $t"
  done
done
rm -rf /tmp/trib_ab_store
