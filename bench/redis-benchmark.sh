#!/usr/bin/env bash
# bench/redis-benchmark.sh [N] - redis-benchmark against Redis and Talus, same run.
#
#   Redis 7.0:  port 6391, --save '' --appendonly yes --appendfsync everysec
#   Talus:      port 6392, fresh embedded PostgreSQL in a temp dir, run twice:
#               --appendfsync always (reply after the PostgreSQL commit) and
#               --appendfsync everysec (reply at once, commit within a second)
#   load:       redis-benchmark -c 50 -d 64 -r 1000000 -n N -t set,get,incr,mset
#               with -P 1 and -P 16, --csv (rps and latency percentiles)
#
# Prints one table row per test/pipeline/Talus mode: Redis rps, Talus rps,
# ratio, p50/p99 latency for both. Needs a built tree (npx tsc -b).
# Collections (issue 3's rows): TESTS=hset,lpush,rpop,sadd,zadd,lrange_100.
# Environment: N (requests per test, default 100000), TESTS, CLIENTS (50),
# PIPELINES ("1 16"), MODES ("always everysec"), REDIS_PORT, TALUS_PORT,
# KEEP_CSV=dir to keep the raw CSV.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-${N:-100000}}
TESTS=${TESTS:-set,get,incr,mset}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-1 16}
MODES=${MODES:-always everysec}
REDIS_PORT=${REDIS_PORT:-6391}
TALUS_PORT=${TALUS_PORT:-6392}
MAIN="$ROOT/dist/src/main.js"
[ -f "$MAIN" ] || { echo "build first: npx tsc -b" >&2; exit 2; }
for b in redis-server redis-cli redis-benchmark; do
  command -v $b >/dev/null || { echo "$b is required (apt-get install redis-server redis-tools)" >&2; exit 2; }
done

WORK=$(mktemp -d -t talus-bench.XXXXXX)
chmod 755 "$WORK"   # as root the embedded PostgreSQL runs as `postgres`
CSV=${KEEP_CSV:-$WORK/csv}
mkdir -p "$CSV"
REDIS_PID=""; TALUS_PID=""

wait_ping() { # port pid what
  for _ in $(seq 1 600); do
    [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during startup" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 not answering on $1" >&2; return 1
}
stop_pid() { # pid [seconds]
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 $((${2:-30} * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then echo "  pid $1 still running after ${2:-30} s: SIGKILL" >&2; kill -KILL "$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || true
}
# Talus commits what is dirty on SIGTERM (everysec can leave a backlog), then
# stops its PostgreSQL; after a SIGKILL that PostgreSQL is left running.
stop_talus() { # dir
  local t0=$SECONDS
  stop_pid "$TALUS_PID" 300; TALUS_PID=""
  echo "  Talus stopped in $((SECONDS - t0)) s" >&2
  local pgpid
  pgpid=$(head -n 1 "$1/pg/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pgpid" ] && grep -qs postgres "/proc/$pgpid/cmdline"; then stop_pid "$pgpid" 60; fi
}
cleanup() {
  if [ -n "$TALUS_PID" ]; then stop_talus "$CUR_DIR"; fi
  stop_pid "$REDIS_PID"
  rm -rf "$WORK"
}
CUR_DIR=$WORK
trap cleanup EXIT
trap 'exit 130' INT TERM

bench() { # name port
  for p in $PIPELINES; do
    echo "  $1 -P $p ..." >&2
    redis-benchmark -h 127.0.0.1 -p "$2" -c "$CLIENTS" -d 64 -r 1000000 -n "$N" -t "$TESTS" -P "$p" --csv \
      >"$CSV/$1-P$p.csv" 2>"$CSV/$1-P$p.err" || echo "  (redis-benchmark exited $? for $1 -P $p)" >&2
  done
}

echo "redis-benchmark: N=$N clients=$CLIENTS tests=$TESTS pipelines=($PIPELINES) on $(nproc) cores" >&2
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
  --dir "$WORK/redis" --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!
wait_ping "$REDIS_PORT" "$REDIS_PID" redis-server
bench redis "$REDIS_PORT"
stop_pid "$REDIS_PID"; REDIS_PID=""

for mode in $MODES; do
  dir="$WORK/talus-$mode"; CUR_DIR=$dir
  mkdir -p "$dir"; chmod 755 "$dir"
  "$ROOT/bin/talus" --port "$TALUS_PORT" --bind 127.0.0.1 --dir "$dir" --appendfsync "$mode" --loglevel warning \
    >"$WORK/talus-$mode.log" 2>&1 &
  TALUS_PID=$!
  wait_ping "$TALUS_PORT" "$TALUS_PID" "Talus ($mode)" || { tail -n 20 "$WORK/talus-$mode.log" >&2; exit 1; }
  bench "talus-$mode" "$TALUS_PORT"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$TALUS_PID/status" 2>/dev/null || echo '?')
  echo "  Talus ($mode) RSS after the run: $((rss / 1024)) MB" >&2
  stop_talus "$dir"
done

# CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
field() { # file test column(2=rps 5=p50 7=p99)
  [ -f "$1" ] || { echo '-'; return; }
  awk -F'","' -v t="$2" -v c="$3" '{ gsub(/^"|"$/, ""); n = split($0, f, "\",\""); if (f[1] == t) { print f[c]; exit } }' "$1"
}
echo
printf '| %-15s | %2s | %-8s | %10s | %10s | %6s | %-15s | %-15s |\n' test P talus 'redis rps' 'talus rps' ratio 'redis p50/p99' 'talus p50/p99'
printf '| %-15s | %2s | %-8s | %10s | %10s | %6s | %-15s | %-15s |\n' '---' '--:' '---' '---:' '---:' '---:' '---:' '---:'
for t in $(echo "$TESTS" | tr ',' ' '); do
  T=$(echo "$t" | tr a-z A-Z)
  case $T in # redis-benchmark's CSV names
    MSET) T="MSET (10 keys)" ;;
    LRANGE_100|LRANGE_300|LRANGE_500|LRANGE_600) T="$T (first ${T#LRANGE_} elements)" ;;
  esac
  for p in $PIPELINES; do
    r="$CSV/redis-P$p.csv"
    rr=$(field "$r" "$T" 2); r50=$(field "$r" "$T" 5); r99=$(field "$r" "$T" 7)
    for mode in $MODES; do
      f="$CSV/talus-$mode-P$p.csv"
      tr_=$(field "$f" "$T" 2); t50=$(field "$f" "$T" 5); t99=$(field "$f" "$T" 7)
      ratio='-'
      if [[ $rr =~ ^[0-9.]+$ && $tr_ =~ ^[0-9.]+$ ]]; then ratio=$(awk -v a="$tr_" -v b="$rr" 'BEGIN { printf "%.2f", a / b }'); fi
      printf '| %-15s | %2s | %-8s | %10s | %10s | %6s | %-15s | %-15s |\n' "$T" "$p" "$mode" "${rr:--}" "${tr_:--}" "$ratio" \
        "${r50:--}/${r99:--}" "${t50:--}/${t99:--}"
    done
  done
done
echo
echo "latencies in ms; ratio = talus rps / redis rps. Raw CSV and stderr: $CSV$( [ -n "${KEEP_CSV:-}" ] || echo ' (removed on exit; set KEEP_CSV=dir to keep)')"
for f in "$CSV"/*.err; do
  [ -s "$f" ] && { echo "--- $(basename "$f"):"; head -n 5 "$f"; }
done
exit 0
