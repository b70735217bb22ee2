#!/bin/bash
# One file ingest into a fresh store (/tmp/trib_threads_store), with the CPU seconds of each
# thread name (trib-writer, trib-commit, trib-sync, rocksdb:high, rocksdb:low, the main
# thread), sampled from /proc/PID/task/*/stat every second (up to a second of each thread's
# end is missed); short-lived parsing threads are not in the sample: they take the rest of
# the total.
#   bench/scripts/ingest_threads.sh BIN FILE
set -uo pipefail
bin=$1 file=$2
store=/tmp/trib_threads_store snap=$(mktemp) timing=$(mktemp)
rm -rf "$store"
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" -o "$timing" \
  "$bin" ingest --data "$store" "$file" >/dev/null 2>&1 &
sleep 0.5
pid=$(pgrep -f "ingest --data $store" | grep -vx "$!" | tail -1)
while kill -0 "$pid" 2>/dev/null; do
  for t in /proc/"$pid"/task/*; do
    echo "${t##*/} $(cat "$t"/comm 2>/dev/null) $(awk '{print $14 + $15}' "$t"/stat 2>/dev/null)"
  done >> "$snap" 2>/dev/null
  sleep 1
done
wait
cat "$timing"
# The last sample of each thread id, summed by name: threads that end before the process
# keep the time of their last sample.
awk 'NF == 3 {name[$1] = $2; last[$1] = $3}
     END {for (t in last) cpu[name[t]] += last[t];
          for (k in cpu) printf "%s %.1f s\n", k, cpu[k] / 100}' "$snap" | sort
rm -rf "$store" "$snap" "$timing"
