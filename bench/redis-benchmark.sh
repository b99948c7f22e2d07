#!/usr/bin/env bash
# bench/redis-benchmark.sh [N] - redis-benchmark against Redis and Talus, same run.
#
#   Redis 7.0:  port 6391, --save '' --appendonly yes --appendfsync everysec
#   Talus:      ports 6392, 6393..., one per mode, each with a fresh embedded
#               PostgreSQL in a temp dir: --appendfsync always (reply after the
#               PostgreSQL commit) and --appendfsync everysec (reply at once,
#               commit within a second)
#   load:       redis-benchmark -c 50 -d 64 -r 1000000 -n N -t <test> -P <p>
#               --csv (rps and latency percentiles)
#
# All servers run side by side and each test/pipeline is measured on Redis and
# then on each Talus, back to back (after the Talus instances have committed
# their backlog), so that a ratio compares measurements taken a few seconds
# apart: the development VM's speed drifts by 30% and more within minutes
# (docs/benchmarks.md). ROUNDS=n repeats the whole sequence and reports
# medians.
#
# Prints one table row per test/pipeline/Talus mode: Redis rps, Talus rps,
# ratio, p50/p99 latency for both, and each server's CPU per request (steadier than
# requests/s on a shared machine). Needs a built tree (npx tsc -b).
# Collections (issue 3's rows): TESTS=hset,lpush,rpop,sadd,zadd,lrange_100.
# Environment: N (requests per test, default 100000), TESTS, CLIENTS (50),
# PIPELINES ("1 16"), MODES ("always everysec"), ROUNDS (1), REDIS_PORT,
# TALUS_PORT (the first Talus; the next modes take the ports after it),
# KEEP_CSV=dir to keep the raw CSV.
# BASELINE=<another built checkout> adds, for each mode M, a Talus "M@base" run
# from that tree, measured in the same sequence: a before/after comparison of
# two builds within one run (the VM's drift makes separate runs incomparable).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-${N:-100000}}
TESTS=${TESTS:-set,get,incr,mset}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-1 16}
MODES=${MODES:-always everysec}
ROUNDS=${ROUNDS:-1}
REDIS_PORT=${REDIS_PORT:-6391}
TALUS_PORT=${TALUS_PORT:-6392}
MAIN="$ROOT/dist/src/main.js"
[ -f "$MAIN" ] || { echo "build first: npx tsc -b" >&2; exit 2; }
if [ -n "${BASELINE:-}" ]; then
  [ -f "$BASELINE/dist/src/main.js" ] || { echo "BASELINE=$BASELINE is not a built checkout" >&2; exit 2; }
  for m in $MODES; do MODES="$MODES $m@base"; done
fi
# the checkout a mode runs from: "M@base" is BASELINE's build, any other this one
tree_of() { case $1 in *@base) echo "$BASELINE" ;; *) echo "$ROOT" ;; esac; }
for b in redis-server redis-cli redis-benchmark; do
  command -v $b >/dev/null || { echo "$b is required (apt-get install redis-server redis-tools)" >&2; exit 2; }
done

WORK=$(mktemp -d -t talus-bench.XXXXXX)
chmod 755 "$WORK"   # as root the embedded PostgreSQL runs as `postgres`
CSV=${KEEP_CSV:-$WORK/csv}
mkdir -p "$CSV"
REDIS_PID=""
declare -A TALUS_PIDS=() TALUS_PORTS=()

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
# Talus commits what is dirty on SIGTERM, then stops its PostgreSQL; after a
# SIGKILL that PostgreSQL is left running.
stop_talus() { # mode
  local dir="$WORK/talus-$1" pgpid
  stop_pid "${TALUS_PIDS[$1]:-}" 300
  unset "TALUS_PIDS[$1]"
  pgpid=$(head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pgpid" ] && grep -qs postgres "/proc/$pgpid/cmdline"; then stop_pid "$pgpid" 60; fi
}
cleanup() {
  for mode in "${!TALUS_PIDS[@]}"; do stop_talus "$mode"; done
  stop_pid "$REDIS_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait until every Talus has committed its backlog (everysec leaves one), so
# that no server's background work lands in another's measurement.
settle() {
  for mode in "${!TALUS_PORTS[@]}"; do
    for _ in $(seq 1 1200); do
      [ "$(redis-cli -p "${TALUS_PORTS[$mode]}" INFO talus 2>/dev/null | tr -d '\r' | awk -F: '$1 == "dirty_entries" {print $2}')" = 0 ] && break
      sleep 0.1
    done
  done
}

# CPU seconds (user + system, clock ticks of 1/100 s) a process has used so far.
cpu_ticks() { # pid
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run() { # name port test pipeline round pid
  local before
  settle
  before=$(cpu_ticks "$6")
  redis-benchmark -h 127.0.0.1 -p "$2" -c "$CLIENTS" -d 64 -r 1000000 -n "$N" -t "$3" -P "$4" --csv \
    >"$CSV/$1-$3-P$4-r$5.csv" 2>"$CSV/$1-$3-P$4-r$5.err" || echo "  (redis-benchmark exited $? for $1 $3 -P $4)" >&2
  # the server's CPU microseconds per request: steadier than requests/s on a shared machine
  awk -v a="$before" -v b="$(cpu_ticks "$6")" -v n="$N" 'BEGIN { printf "%.2f\n", (b - a) * 1e4 / n }' >"$CSV/$1-$3-P$4-r$5.cpu"
}

echo "redis-benchmark: N=$N clients=$CLIENTS tests=$TESTS pipelines=($PIPELINES) rounds=$ROUNDS on $(nproc) cores" >&2
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
  --dir "$WORK/redis" --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!
wait_ping "$REDIS_PORT" "$REDIS_PID" redis-server
port=$TALUS_PORT
for mode in $MODES; do
  dir="$WORK/talus-$mode"
  mkdir -p "$dir"; chmod 755 "$dir"
  "$(tree_of "$mode")/bin/talus" --port "$port" --bind 127.0.0.1 --dir "$dir" --appendfsync "${mode%@base}" --loglevel warning \
    >"$WORK/talus-$mode.log" 2>&1 &
  TALUS_PIDS[$mode]=$!
  TALUS_PORTS[$mode]=$port
  wait_ping "$port" "${TALUS_PIDS[$mode]}" "Talus ($mode)" || { tail -n 20 "$WORK/talus-$mode.log" >&2; exit 1; }
  port=$((port + 1))
done

for round in $(seq 1 "$ROUNDS"); do
  for t in $(echo "$TESTS" | tr ',' ' '); do
    for p in $PIPELINES; do
      echo "  round $round: $t -P $p" >&2
      run redis "$REDIS_PORT" "$t" "$p" "$round" "$REDIS_PID"
      for mode in $MODES; do run "talus-$mode" "${TALUS_PORTS[$mode]}" "$t" "$p" "$round" "${TALUS_PIDS[$mode]}"; done
    done
  done
done
for mode in $MODES; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/${TALUS_PIDS[$mode]}/status" 2>/dev/null || echo 0)
  echo "  Talus ($mode) RSS after the run: $((rss / 1024)) MB" >&2
done

# CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
# median over the rounds of one column of one test's row (the CSV names: "MSET (10 keys)", "LRANGE_100 (first 100 elements)")
value() { # csv-file csv-test-name column(2=rps 5=p50 7=p99)
  [ -f "$1" ] && awk -v t="$2" -v c="$3" '{ gsub(/^"|"$/, ""); n = split($0, f, "\",\""); if (f[1] == t) { print f[c]; exit } }' "$1"
}
median() { # server test pipeline csv-test-name column
  local vals
  vals=$(for f in "$CSV/$1-$2-P$3"-r*.csv; do value "$f" "$4" "$5"; done | sort -g)
  [ -n "$vals" ] || { echo '-'; return; }
  echo "$vals" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# median over the rounds of the server's CPU microseconds per request
cpu_median() { # server test pipeline
  local vals
  vals=$(cat "$CSV/$1-$2-P$3"-r*.cpu 2>/dev/null | sort -g)
  [ -n "$vals" ] || { echo '-'; return; }
  echo "$vals" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# lowest and highest of the rounds' own ratios (each Talus run against the Redis run just before it)
ratios() { # talus-server test pipeline csv-test-name
  local r a b
  for r in $(seq 1 "$ROUNDS"); do
    a=$(value "$CSV/$1-$2-P$3-r$r.csv" "$4" 2); b=$(value "$CSV/redis-$2-P$3-r$r.csv" "$4" 2)
    [[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", a / b }'
  done | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi; else printf "-" }'
}
echo
printf '| %-15s | %2s | %-13s | %10s | %10s | %6s | %-11s | %-15s | %-15s | %-13s |\n' test P talus 'redis rps' 'talus rps' ratio 'per round' 'redis p50/p99' 'talus p50/p99' 'cpu us/req r/t'
printf '| %-15s | %2s | %-13s | %10s | %10s | %6s | %-11s | %-15s | %-15s | %-13s |\n' '---' '--:' '---' '---:' '---:' '---:' '---:' '---:' '---:' '---:'
for t in $(echo "$TESTS" | tr ',' ' '); do
  T=$(echo "$t" | tr a-z A-Z)
  case $T in # redis-benchmark's CSV names
    MSET) T="MSET (10 keys)" ;;
    LRANGE_100|LRANGE_300|LRANGE_500|LRANGE_600) T="$T (first ${T#LRANGE_} elements)" ;;
  esac
  for p in $PIPELINES; do
    rr=$(median redis "$t" "$p" "$T" 2); r50=$(median redis "$t" "$p" "$T" 5); r99=$(median redis "$t" "$p" "$T" 7); rcpu=$(cpu_median redis "$t" "$p")
    for mode in $MODES; do
      tr_=$(median "talus-$mode" "$t" "$p" "$T" 2); t50=$(median "talus-$mode" "$t" "$p" "$T" 5); t99=$(median "talus-$mode" "$t" "$p" "$T" 7)
      ratio='-'
      if [[ $rr =~ ^[0-9.]+$ && $tr_ =~ ^[0-9.]+$ ]]; then ratio=$(awk -v a="$tr_" -v b="$rr" 'BEGIN { printf "%.2f", a / b }'); fi
      printf '| %-15s | %2s | %-13s | %10s | %10s | %6s | %-11s | %-15s | %-15s | %-13s |\n' "$T" "$p" "$mode" "${rr:--}" "${tr_:--}" "$ratio" \
        "$(ratios "talus-$mode" "$t" "$p" "$T")" "${r50:--}/${r99:--}" "${t50:--}/${t99:--}" "$rcpu/$(cpu_median "talus-$mode" "$t" "$p")"
    done
  done
done
echo
echo "latencies in ms; ratio = talus rps / redis rps (medians over $ROUNDS round(s)); per round: the lowest and highest of each round's own ratio; cpu: the server process's CPU microseconds per request, redis/talus (medians; Talus's PostgreSQL not included). Raw CSV and stderr: $CSV$( [ -n "${KEEP_CSV:-}" ] || echo ' (removed on exit; set KEEP_CSV=dir to keep)')"
for f in "$CSV"/*.err; do
  [ -s "$f" ] && { echo "--- $(basename "$f"):"; head -n 5 "$f"; }
done
exit 0
