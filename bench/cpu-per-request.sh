#!/usr/bin/env bash
# bench/cpu-per-request.sh TREE... - Talus's CPU per request, builds compared in alternating pairs.
#
# Starts one Talus per built checkout given (bin/talus, --appendfsync
# everysec, a fresh embedded PostgreSQL each), warms each with
# `redis-benchmark -c 50 -d 64 -r 1000000 -n 20000 -t set -P 16`, then for
# ROUNDS rounds runs `redis-benchmark -c 50 -d 64 -r 1000000 -t $TEST -P p` on
# each build in turn and prints the server process's CPU microseconds per
# request (utime + stime from /proc/<pid>/stat around the run; the process's
# helper threads included, its PostgreSQL not). Alternating keeps the
# machine's drift out of a comparison: on a shared VM requests/s moves by 2-4x
# between rounds, CPU per request by 10-30%. Ends with the median and the
# lowest value of each build and pipeline.
#
# Environment: TEST (get), PIPES ("16 1"), N (requests per run at -P16, 100000),
# N1 (at -P1, 40000), ROUNDS (8).
# Example, this tree against another built checkout:
#   bench/cpu-per-request.sh /path/to/before .
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 TREE... (built checkouts: npx tsc -b)" >&2; exit 2; }
TEST=${TEST:-get}
PIPES=${PIPES:-16 1}
N=${N:-100000}
N1=${N1:-40000}
ROUNDS=${ROUNDS:-8}
TREES=()
for t in "$@"; do
  t=$(cd "$t" && pwd)
  [ -f "$t/dist/src/main.js" ] || { echo "$t is not a built checkout" >&2; exit 2; }
  TREES+=("$t")
done

WORK=$(mktemp -d -t talus-cpu.XXXXXX)
chmod 755 "$WORK"   # as root the embedded PostgreSQL runs as `postgres`
PIDS=()
PORTS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$((45000 + RANDOM % 5000))
    ss -ltn | grep -q ":$p " || { echo "$p"; return; }
  done
}
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

for i in "${!TREES[@]}"; do
  port=$(free_port)
  mkdir -p "$WORK/t$i"; chmod 755 "$WORK/t$i"
  "${TREES[$i]}/bin/talus" --port "$port" --bind 127.0.0.1 --dir "$WORK/t$i" --appendfsync everysec --loglevel warning \
    >"$WORK/t$i.log" 2>&1 &
  PIDS[i]=$!
  PORTS[i]=$port
done
for i in "${!TREES[@]}"; do
  for _ in $(seq 1 600); do [ "$(timeout 5 redis-cli -p "${PORTS[$i]}" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  redis-benchmark -p "${PORTS[$i]}" -c 50 -d 64 -r 1000000 -n 20000 -t set -P 16 -q >/dev/null
done
sleep 2

OUT=$WORK/results
for r in $(seq 1 "$ROUNDS"); do
  for p in $PIPES; do
    n=$N; [ "$p" = 1 ] && n=$N1
    for i in "${!TREES[@]}"; do
      a=$(ticks "${PIDS[$i]}")
      redis-benchmark -p "${PORTS[$i]}" -c 50 -d 64 -r 1000000 -n "$n" -t "$TEST" -P "$p" -q >/dev/null
      b=$(ticks "${PIDS[$i]}")
      us=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.2f", (b - a) * 1e4 / n }')
      echo "round $r $TEST -P$p ${TREES[$i]}: $us us/request (load $(cut -d' ' -f1 /proc/loadavg))"
      echo "$p $i $us" >>"$OUT"
    done
  done
done
echo
for p in $PIPES; do
  for i in "${!TREES[@]}"; do
    awk -v p="$p" -v i="$i" '$1 == p && $2 == i { print $3 }' "$OUT" | sort -g |
      awk -v t="${TREES[$i]}" -v p="$p" -v test="$TEST" '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%s -P%s %s: median %.2f us, lowest %.2f us per request (%d runs)\n", test, p, t, m, v[1], NR }'
  done
done
