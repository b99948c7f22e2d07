#!/usr/bin/env bash
# bench/read-under-write.sh - GET throughput while another load SETs, on two
# Talus builds side by side (appendfsync always), to price the read gate
# (a read of a key with an uncommitted change waits for that commit).
#
#   BASELINE=/path/to/other/checkout bench/read-under-write.sh
#
# Both builds run at once, each with its own embedded PostgreSQL. Per round,
# for each build in turn: a background `redis-benchmark -t set -P 1 -c 10
# -r 100000` load, then `redis-benchmark -t get -c 50 -n N -r 100000 -P p`
# against the same server, then the load stops. Rounds alternate which build
# goes first. Prints every measurement and the median (min-max) rps per build
# and pipeline. Environment: N (GET requests, 200000), ROUNDS (3),
# PIPELINES ("1 16"), PORT (first port, 36391; the baseline takes PORT+1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASELINE=${BASELINE:?set BASELINE to a built checkout to compare with}
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
PIPELINES=${PIPELINES:-1 16}
PORT=${PORT:-36391}
WORK=$(mktemp -d -t talus-rw.XXXXXX)
chmod 755 "$WORK"
declare -A PIDS=() PORTS=() TREES=([this]="$ROOT" [baseline]="$BASELINE")
LOAD=""

stop_pid() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; wait "$1" 2>/dev/null || true; }
cleanup() {
  [ -n "$LOAD" ] && stop_pid "$LOAD"
  for b in "${!PIDS[@]}"; do stop_pid "${PIDS[$b]}"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$PORT
for b in this baseline; do
  mkdir -p "$WORK/$b"; chmod 755 "$WORK/$b"
  "${TREES[$b]}/bin/talus" --port "$port" --bind 127.0.0.1 --dir "$WORK/$b" --appendfsync always --loglevel warning >"$WORK/$b.log" 2>&1 &
  PIDS[$b]=$!; PORTS[$b]=$port; port=$((port + 1))
  for _ in $(seq 1 600); do [ "$(redis-cli -p "${PORTS[$b]}" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  # the GET keys exist: the reads find values, some of them with uncommitted changes
  redis-benchmark -h 127.0.0.1 -p "${PORTS[$b]}" -t set -n 200000 -r 100000 -c 50 -P 16 -q >/dev/null
done

measure() { # build pipeline round
  local port=${PORTS[$1]} rps
  redis-benchmark -h 127.0.0.1 -p "$port" -t set -n 100000000 -P 1 -c 10 -r 100000 -q >/dev/null 2>&1 &
  LOAD=$!
  sleep 1
  rps=$(redis-benchmark -h 127.0.0.1 -p "$port" -t get -c 50 -n "$N" -r 100000 -P "$2" --csv | awk -F'","' '/^"GET"/ {print $2}')
  stop_pid "$LOAD"; LOAD=""
  echo "$1 $2 $3 $rps" >>"$WORK/results"
  echo "  round $3: $1 GET -P $2 under SET load: $rps rps" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  order="this baseline"; [ $((round % 2)) = 0 ] && order="baseline this"
  for p in $PIPELINES; do for b in $order; do measure "$b" "$p" "$round"; done; done
done

echo "GET rps under a concurrent SET load (appendfsync always), median (min-max) of $ROUNDS rounds:"
for p in $PIPELINES; do
  for b in this baseline; do
    awk -v b="$b" -v p="$p" '$1 == b && $2 == p {print $4}' "$WORK/results" | sort -g |
      awk -v b="$b" -v p="$p" '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "  -P %-3s %-9s %10.0f (%.0f-%.0f)\n", p, b, m, v[1], v[NR]}'
  done
done
