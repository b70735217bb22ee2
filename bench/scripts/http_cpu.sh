#!/bin/bash
# One HTTP ingest run against a fresh server (/tmp/trib_http_store, port 5097): http_load's
# events/s and ack p99, and the server's CPU seconds over the load by thread name, from
# /proc/PID/task/*/stat (the HTTP threads carry the binary's name).
#   bench/scripts/http_cpu.sh BIN FILE [CLIENTS]   (run from the source tree, after make)
set -uo pipefail
bin=$1 file=$2 clients=${3:-8}
store=/tmp/trib_http_store port=5097
rm -rf "$store"
"$bin" serve --data "$store" --port "$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "localhost:$port/" && break; sleep 0.05; done
cpu() {
  for t in /proc/"$pid"/task/*; do echo "$(cat "$t"/comm) $(awk '{print $14 + $15}' "$t"/stat)"; done |
    awk '{cpu[$1] += $2} END {for (k in cpu) print k, cpu[k]}' | sort
}
before=$(cpu)
result=$(build/http_load ingest --port "$port" --clients "$clients" "$file" |
  grep -o '"events_per_s":[0-9.]*\|"p99":[0-9.]*' | tr '\n' ' ')
after=$(cpu)
echo "$(basename "$bin") $result cpu: $(join <(echo "$before") <(echo "$after") |
  awk '{d = ($3 - $2) / 100; total += d; printf "%s=%.2f ", $1, d} END {printf "total=%.2f", total}')"
kill "$pid"
wait "$pid" 2>/dev/null
rm -rf "$store"
