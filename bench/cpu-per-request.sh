#!/usr/bin/env bash
# bench/cpu-per-request.sh - CPU per request of Talus and of its PostgreSQL,
# one or two builds compared in interleaved runs.
#
#   BUILDS="<tree> [<tree>]"  built checkouts (default: this one); each gets its own
#                             Talus with a fresh embedded PostgreSQL, all running at once
#   TEST=set  P=16  MODE=everysec  N=300000  WARMUP=20000  PAIRS=2  CLIENTS=50
#                             (the warm-up is WARMUP SETs whatever TEST is, and WARMUP
#                             runs of SCRIPT if set)
#   AT_ONCE=1                 each pair is one run of every build at the same time
#                             (one redis-benchmark per build, started together): the
#                             builds then share the machine's conditions of that
#                             moment, which on a machine shared with other jobs vary
#                             more from one run to the next than builds differ
#   SCRIPT="<lua>"            run EVALSHA <its sha> 1 script:__rand_int__ instead of -t TEST
#                             (the script is loaded on each Talus; TEST only labels the runs)
#   SQL_<i>="..."             SQL run on the i-th instance's PostgreSQL (from 0) once it
#                             is up, before the warm-up: a PostgreSQL-side change measured
#                             against the same build without it (BUILDS="$PWD $PWD")
#   ENV_<i>="NAME=value ..."  environment of the i-th instance only (e.g. ENV_0="TALUS_MALLOC=glibc":
#                             glibc's malloc against jemalloc, BUILDS="$PWD $PWD")
#   ARGS_<i>="--opt value"    options of the i-th instance only (an option measured
#                             against the same build without it)
#   RESTART=1                 restart each Talus (SIGTERM, start again on its data) before
#                             every run: every key is cold, in PostgreSQL only
#   DATA=64                   redis-benchmark -d: value bytes
#   KEYSPACE=1000000          redis-benchmark -r: names drawn from this many (a large
#                             one makes nearly every SET a new name)
#
# Per run: redis-benchmark -c CLIENTS -d DATA -r KEYSPACE -n N -t TEST -P P against one
# Talus, after every Talus has committed its backlog; CPU from /proc/<pid>/stat
# (utime + stime) of Talus and of the postmaster, its live children and the
# children it has reaped (cutime + cstime: autovacuum workers come and go),
# divided by N. Runs alternate between builds, and the order within a pair
# alternates too: on a shared machine CPU per request is steadier than
# requests/s, and interleaving spreads the machine's drift over both builds.
# Prints one line per run: build, Talus µs/request, PostgreSQL µs/request, rps.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILDS=${BUILDS:-$ROOT}
TEST=${TEST:-set}
P=${P:-16}
MODE=${MODE:-everysec}
N=${N:-300000}
WARMUP=${WARMUP:-20000}
PAIRS=${PAIRS:-2}
AT_ONCE=${AT_ONCE:-0}
CLIENTS=${CLIENTS:-50}
RESTART=${RESTART:-0}
KEYSPACE=${KEYSPACE:-1000000}
DATA=${DATA:-64}
PORT=${PORT:-$((45000 + RANDOM % 4000))}

WORK=$(mktemp -d -t talus-cpu.XXXXXX)
chmod 755 "$WORK"   # as root the embedded PostgreSQL runs as `postgres`
declare -a PIDS=() PORTS=() DIRS=()

stop_pid() { # pid seconds
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  local i pgpid
  for i in "${!PIDS[@]}"; do
    stop_pid "${PIDS[$i]}" 300
    pgpid=$(head -n 1 "${DIRS[$i]}/pg/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pgpid" ] && grep -qs postgres "/proc/$pgpid/cmdline"; then stop_pid "$pgpid" 60; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# clock ticks (1/100 s) of user + system time: own, or own + reaped children's
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_with_reaped() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() { # data dir
  local pm c sum
  pm=$(head -n 1 "$1/pg/postmaster.pid")
  sum=$(ticks_with_reaped "$pm")
  for c in $(pgrep -P "$pm"); do sum=$((sum + $(ticks "$c"))); done
  echo "$sum"
}
settle() {
  local port
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 1200); do
      [ "$(timeout 5 redis-cli -p "$port" INFO talus 2>/dev/null | tr -d '\r' | awk -F: '$1 == "dirty_entries" {print $2}')" = 0 ] && break
      sleep 0.1
    done
  done
  sleep 1
}
bench() { # port n [test]
  local what=(-t "${3:-$TEST}")
  if [ -n "${SCRIPT:-}" ] && [ -z "${3:-}" ]; then
    what=(EVALSHA "$(timeout 5 redis-cli -p "$1" SCRIPT LOAD "$SCRIPT")" 1 'script:__rand_int__')
  fi
  redis-benchmark -h 127.0.0.1 -p "$1" -c "$CLIENTS" -d "$DATA" -r "$KEYSPACE" -n "$2" -P "$P" --csv "${what[@]}" 2>/dev/null |
    awk -F'","' 'END { print $2 }'
}

declare -a TREES=()
start_talus() { # i
  local i=$1 argsvar="ARGS_$1" envvar="ENV_$1"
  # shellcheck disable=SC2086 # options split on spaces
  env ${!envvar:-} "${TREES[$i]}/bin/talus" --port "${PORTS[$i]}" --bind 127.0.0.1 --dir "${DIRS[$i]}" --appendfsync "$MODE" --loglevel warning ${!argsvar:-} >>"$WORK/talus-$i.log" 2>&1 &
  PIDS[$i]=$!
  for _ in $(seq 1 600); do
    [ "$(timeout 5 redis-cli -p "${PORTS[$i]}" PING 2>/dev/null)" = PONG ] && break
    kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$WORK/talus-$i.log" >&2; exit 1; }
    sleep 0.1
  done
}
i=0
for tree in $BUILDS; do
  dir="$WORK/talus-$i"; mkdir -p "$dir"; chmod 755 "$dir"
  TREES[$i]=$tree; PORTS[$i]=$((PORT + i)); DIRS[$i]=$dir
  start_talus "$i"
  sqlvar="SQL_$i"
  if [ -n "${!sqlvar:-}" ]; then
    PGPASSWORD=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).password)' "$dir/embedded-pg.json") \
      psql -h 127.0.0.1 -p "$(sed -n 4p "$dir/pg/postmaster.pid")" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 -c "${!sqlvar}"
  fi
  i=$((i + 1))
done
# the warm-up writes (SET), so that a read test finds keys; a script is run as much too (compiled by V8 before the first run)
for i in "${!PIDS[@]}"; do
  bench "${PORTS[$i]}" "$WARMUP" set >/dev/null
  if [ -n "${SCRIPT:-}" ]; then bench "${PORTS[$i]}" "$WARMUP" >/dev/null; fi
done

echo "${SCRIPT:+EVALSHA of \"$SCRIPT\", }$TEST -P $P appendfsync $MODE, N=$N after $WARMUP, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %12s %12s %10s\n' build 'talus us/req' 'pg us/req' rps
row() { # index talus-ticks pg-ticks rps
  printf '%-40s %12.2f %12.2f %10s\n' "$1:$(echo $BUILDS | cut -d' ' -f$(($1 + 1)))" "$(echo "$2 * 10000 / $N" | bc -l)" "$(echo "$3 * 10000 / $N" | bc -l)" "$4"
}
for pair in $(seq 1 "$PAIRS"); do
  order=("${!PIDS[@]}")
  [ $((pair % 2)) -eq 0 ] && order=($(printf '%s\n' "${order[@]}" | tac))
  if [ "$AT_ONCE" = 1 ]; then
    # Started in the pair's order. The builds that finish first run the rest
    # of the time alone: CPU per request is compared, not requests/s.
    settle
    declare -a T0=() G0=() JOBS=()
    for i in "${order[@]}"; do
      T0[$i]=$(ticks "${PIDS[$i]}"); G0[$i]=$(pg_ticks "${DIRS[$i]}")
      bench "${PORTS[$i]}" "$N" >"$WORK/rps-$i" &
      JOBS[$i]=$!
    done
    for i in "${!PIDS[@]}"; do wait "${JOBS[$i]}"; done
    settle
    for i in "${!PIDS[@]}"; do
      row "$i" "$(($(ticks "${PIDS[$i]}") - T0[$i]))" "$(($(pg_ticks "${DIRS[$i]}") - G0[$i]))" "$(cat "$WORK/rps-$i")"
    done
    continue
  fi
  for i in "${order[@]}"; do
    settle
    if [ "$RESTART" = 1 ]; then
      stop_pid "${PIDS[$i]}" 300
      start_talus "$i"
      # the name filter is built in the background: let it finish (PostgreSQL's CPU for it is not counted)
      for _ in $(seq 1 600); do
        building=$(timeout 5 redis-cli -p "${PORTS[$i]}" INFO talus 2>/dev/null | tr -d '\r' | awk -F: '$1 == "name_filters_building" {print $2}')
        [ "${building:-0}" = 0 ] && break
        sleep 0.1
      done
    fi
    t0=$(ticks "${PIDS[$i]}"); g0=$(pg_ticks "${DIRS[$i]}")
    rps=$(bench "${PORTS[$i]}" "$N")
    settle
    t1=$(ticks "${PIDS[$i]}"); g1=$(pg_ticks "${DIRS[$i]}")
    row "$i" "$((t1 - t0))" "$((g1 - g0))" "$rps"
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
