#!/usr/bin/env bash
# .ci/tcl-ratchet.sh [UNIT ...] - Redis Tcl suite compatibility ratchet.
#
# Fetches the Redis 7.0.15 Tcl suite (../shared/tools/get-redis-tests.sh), starts
# a fresh Talus (embedded PostgreSQL in a temp dir) on a local port, runs the
# units listed in .ci/tcl-floor.txt (or the UNITs given) with
# EXTRA_ARGS=--ignore-encoding, prints a table, and fails when a unit aborts
# (exception, timeout, stall, incomplete, Talus died) or passes fewer tests
# than its floor. Each line is also compared with Redis's own counts from
# ../shared/tools/README.md.
#
# Environment:
#   TALUS_SHARED_TOOLS  folder holding get-redis-tests.sh, redis-tcl-suite.sh
#                       and README.md (default: <repo>/../shared/tools)
#   FLOOR_FILE          default .ci/tcl-floor.txt
#   TCL_PORT            Talus port (default 21211; the next free one is used if taken)
#   UNIT_TIMEOUT        seconds per unit (default 90; Redis itself needs <= 6 s here)
#   TALUS_ARGS          extra Talus options (default "--appendfsync everysec")
#   RATCHET_RESTART     1 (default): fresh Talus process per unit (same data dir),
#                       so a crash or a leaked CONFIG SET cannot spill into the
#                       next unit; 0: one Talus for all units
#   RATCHET_LOG_DIR     where unit logs and the Talus log go (default: mktemp -d)
#   TCL_BASEPORT        the Tcl runner listens for its test client on a free port in
#                       [TCL_BASEPORT-32, TCL_BASEPORT) (default TCL_PORT+1032; the
#                       suite's own default 21111 collides with concurrent runs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${TALUS_SHARED_TOOLS:-$(dirname "$ROOT")/shared/tools}
FLOOR_FILE=${FLOOR_FILE:-$ROOT/.ci/tcl-floor.txt}
PORT=${TCL_PORT:-21211}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-150}
TALUS_ARGS=${TALUS_ARGS:---appendfsync everysec}
RATCHET_RESTART=${RATCHET_RESTART:-1}
LOGS=${RATCHET_LOG_DIR:-$(mktemp -d -t talus-tcl.XXXXXX)}
mkdir -p "$LOGS"

for f in get-redis-tests.sh redis-tcl-suite.sh README.md; do
  [ -f "$TOOLS/$f" ] || { echo "tcl-ratchet: $TOOLS/$f not found (set TALUS_SHARED_TOOLS)" >&2; exit 2; }
done
command -v redis-cli >/dev/null || { echo "tcl-ratchet: redis-cli is required" >&2; exit 2; }

# --- floors and units ---------------------------------------------------------
declare -A FLOOR=() BASE=()
UNITS=()
while read -r unit floor _; do
  case $unit in ''|'#'*) continue;; esac
  [[ $floor =~ ^[0-9]+$ ]] || { echo "tcl-ratchet: bad floor line: $unit $floor" >&2; exit 2; }
  FLOOR[$unit]=$floor
  UNITS+=("$unit")
done <"$FLOOR_FILE"
if [ $# -gt 0 ]; then UNITS=("$@"); fi

# Redis 7.0.15's own results: "| unit/x | passed | failed | skipped | secs |" rows
while IFS='|' read -r _ unit passed _; do
  unit=$(echo "$unit" | tr -d ' *'); passed=$(echo "$passed" | tr -d ' *')
  [[ $unit == unit/* && $passed =~ ^[0-9]+$ ]] && BASE[$unit]=$passed
done < <(grep '^| unit/' "$TOOLS/README.md")

# --- suite and Talus ----------------------------------------------------------
TREE=$("$TOOLS/get-redis-tests.sh")
[ -f "$ROOT/dist/src/main.js" ] || (cd "$ROOT" && npx tsc -b)

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 50); do in_use "$PORT" || break; PORT=$((PORT + 1)); done
in_use "$PORT" && { echo "tcl-ratchet: no free port near ${TCL_PORT:-21211}" >&2; exit 2; }

BASEPORT=${TCL_BASEPORT:-$((PORT + 1032))}

DATA=$(mktemp -d -t talus-tcl-data.XXXXXX)
chmod 755 "$DATA"   # as root, the embedded PostgreSQL runs as `postgres` and must reach it
TALUS_LOG="$LOGS/talus.log"
TALUS_PID=""

start_talus() {
  # shellcheck disable=SC2086
  "$ROOT/bin/talus" --port "$PORT" --bind 127.0.0.1 --dir "$DATA" --loglevel notice \
    $TALUS_ARGS >>"$TALUS_LOG" 2>&1 &
  TALUS_PID=$!
  for _ in $(seq 1 600); do
    if ! kill -0 "$TALUS_PID" 2>/dev/null; then
      echo "tcl-ratchet: Talus exited during startup; log tail:" >&2; tail -n 30 "$TALUS_LOG" >&2; return 1
    fi
    [ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "tcl-ratchet: Talus not answering PING after 60 s" >&2; return 1
}

stop_talus() {
  [ -n "$TALUS_PID" ] || return 0
  if kill -0 "$TALUS_PID" 2>/dev/null; then
    kill -TERM "$TALUS_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$TALUS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TALUS_PID" 2>/dev/null || true
  fi
  wait "$TALUS_PID" 2>/dev/null || true
  TALUS_PID=""
}

cleanup() {
  stop_talus
  # a SIGKILLed Talus leaves its PostgreSQL behind: stop it before removing its data
  if [ -f "$DATA/pg/postmaster.pid" ]; then
    pgpid=$(head -n 1 "$DATA/pg/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pgpid" ] && grep -qs postgres "/proc/$pgpid/cmdline"; then
      kill -INT "$pgpid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- run ----------------------------------------------------------------------
declare -A PASSED=() FAILED=() STATUS=() SECS=() LOGFILE=()
started=$SECONDS
[ "$RATCHET_RESTART" = 1 ] || start_talus
for unit in "${UNITS[@]}"; do
  if [ "$RATCHET_RESTART" = 1 ]; then
    if ! start_talus; then
      PASSED[$unit]=0; FAILED[$unit]=1; STATUS[$unit]=no-server; SECS[$unit]=0; LOGFILE[$unit]=$TALUS_LOG
      stop_talus; continue
    fi
  fi
  out=$(EXTRA_ARGS="--ignore-encoding --baseport $BASEPORT" UNIT_TIMEOUT=$UNIT_TIMEOUT LOG_DIR="$LOGS" \
        "$TOOLS/redis-tcl-suite.sh" 127.0.0.1 "$PORT" "$TREE" "$unit" 2>"$LOGS/detail.txt") || true
  detail=$(grep "^# $unit passed=" "$LOGS/detail.txt" | tail -n 1 || true)
  read -r _ p f <<<"$(grep "^$unit " <<<"$out" | tail -n 1 || echo "$unit 0 1")"
  PASSED[$unit]=${p:-0}; FAILED[$unit]=${f:-1}
  STATUS[$unit]=$(sed -n 's/.* status=\([^ ]*\).*/\1/p' <<<"$detail"); STATUS[$unit]=${STATUS[$unit]:-unknown}
  SECS[$unit]=$(sed -n 's/.* secs=\([0-9]*\).*/\1/p' <<<"$detail")
  LOGFILE[$unit]=$(sed -n 's/.* log=\(.*\)$/\1/p' <<<"$detail")
  if ! kill -0 "$TALUS_PID" 2>/dev/null; then
    STATUS[$unit]=talus-died; FAILED[$unit]=$((FAILED[$unit] + 1))
    echo "tcl-ratchet: Talus died during $unit; log tail:" >&2; tail -n 30 "$TALUS_LOG" >&2
    [ "$RATCHET_RESTART" = 1 ] || start_talus
  fi
  [ "$RATCHET_RESTART" = 1 ] && stop_talus
done
stop_talus

# --- report -------------------------------------------------------------------
bad=0
raise=()
echo
printf '%-22s %7s %7s %6s %6s %6s %5s  %-12s %s\n' unit passed failed floor redis pct secs status verdict
printf '%-22s %7s %7s %6s %6s %6s %5s  %-12s %s\n' ---- ------ ------ ----- ----- --- ---- ------ -------
tp=0; tf=0; tb=0
for unit in "${UNITS[@]}"; do
  p=${PASSED[$unit]}; f=${FAILED[$unit]}; st=${STATUS[$unit]}
  fl=${FLOOR[$unit]:-0}; b=${BASE[$unit]:-?}
  pct='-'; [[ $b =~ ^[0-9]+$ ]] && [ "$b" -gt 0 ] && pct="$((100 * p / b))%"
  verdict=ok
  case $st in
    ok|failures) ;;
    *) verdict="FAIL: aborted ($st)"; bad=1;;
  esac
  if [ "$p" -lt "$fl" ]; then verdict="FAIL: below floor $fl"; bad=1; fi
  [ "$verdict" = ok ] && [ "$p" -gt "$fl" ] && raise+=("$unit $p")
  printf '%-22s %7s %7s %6s %6s %6s %5s  %-12s %s\n' "$unit" "$p" "$f" "$fl" "$b" "$pct" "${SECS[$unit]:--}" "$st" "$verdict"
  tp=$((tp + p)); tf=$((tf + f)); [[ $b =~ ^[0-9]+$ ]] && tb=$((tb + b))
done
printf '%-22s %7s %7s %6s %6s\n' TOTAL "$tp" "$tf" '' "$tb"
echo
echo "Compared with Redis 7.0.15 (same suite, same machine class, ../shared/tools/README.md):"
for unit in "${UNITS[@]}"; do
  b=${BASE[$unit]:-}; p=${PASSED[$unit]}
  if [ -n "$b" ]; then
    echo "  $unit: Talus passes $p of the $b tests Redis passes ($((b > 0 ? 100 * p / b : 0))%), missing $((b > p ? b - p : 0))"
  else
    echo "  $unit: no Redis baseline in README.md"
  fi
done

# where to look when something is off
for unit in "${UNITS[@]}"; do
  case ${STATUS[$unit]} in ok) continue;; esac
  log=${LOGFILE[$unit]}
  [ -n "$log" ] && [ -f "$log" ] || continue
  echo
  echo "--- $unit (${STATUS[$unit]}): first errors from $log"
  if grep -qE '^\[(err|exception|TIMEOUT)\]' "$log"; then
    grep -E '^\[(err|exception|TIMEOUT)\]|^(Expected|ERR|WRONGTYPE)' "$log" | head -n 15 || true
  else
    tail -n 8 "$log"
  fi
done
if [ ${#raise[@]} -gt 0 ]; then
  echo
  echo "Floors that can be raised in $(basename "$FLOOR_FILE"):"
  printf '  %s\n' "${raise[@]}"
fi
echo
echo "tcl-ratchet: $((SECONDS - started)) s, logs in $LOGS"
if [ $bad -ne 0 ]; then echo "tcl-ratchet: FAILED"; exit 1; fi
echo "tcl-ratchet: OK"
