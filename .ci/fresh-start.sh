#!/usr/bin/env bash
# .ci/fresh-start.sh - the README's two commands (npm install, npm start) on a
# fresh clone of this checkout, where a user is most likely to try them:
#
#   1. as root, in a mode-700 folder below root's home whose path has a space
#      (the embedded PostgreSQL cannot run as root; its binaries and data dir
#      sit where the `postgres` user cannot reach);
#   2. as an unprivileged user (nobody), in its own mode-700 folder with a space.
#
# Each: git clone -> npm ci -> npm start -- --port N -> SET -> SIGTERM ->
# npm start again -> GET must return the value. Run as root; needs redis-cli
# and the npm cache filled by `npm ci` in the checkout (.ci/run step 2).
# About a minute on 2 cores.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SRC=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh-start: run me as root" >&2; exit 1; }
export NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
NPM_CACHE=$(npm config get cache)

ROOT_WORK=$(mktemp -d "${HOME:-/root}/talus fresh.XXXXXX")   # mode 700
USER_WORK=$(mktemp -d "/tmp/talus fresh user.XXXXXX")        # mode 700, given to nobody below
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  rm -rf "$ROOT_WORK" "$USER_WORK"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# run_as USER CMD...: as root when USER is root, else through runuser (cwd kept)
run_as() {
  local user=$1; shift
  if [ "$user" = root ]; then "$@"; else runuser -u "$user" -- env HOME="$USER_WORK/home" "$@"; fi
}

# start USER DIR PORT LOG: npm start in the background; waits for PING, prints Talus's pid
start() {
  local user=$1 dir=$2 port=$3 log=$4 npm_pid
  (cd "$dir" && run_as "$user" npm start -- --port "$port") >"$log" 2>&1 &
  npm_pid=$!
  for _ in $(seq 1 120); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
      redis-cli -p "$port" info server | tr -d '\r' | sed -n 's/^process_id://p'
      return 0
    fi
    kill -0 "$npm_pid" 2>/dev/null || break
    sleep 1
  done
  echo "npm start did not come up ($user, $dir):" >&2
  cat "$log" >&2
  kill "$npm_pid" 2>/dev/null || true
  return 1
}

# stop PID: SIGTERM to Talus itself (npm does not always pass signals on), wait for it
stop() {
  kill -TERM "$1"
  for _ in $(seq 1 60); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.5; done
  echo "Talus (pid $1) did not stop" >&2
  return 1
}

# round USER WORKDIR: the whole check for one user
round() {
  local user=$1 work=$2 dir port pid value t0=$SECONDS
  dir="$work/talus clone"
  run_as "$user" git clone -q "$SRC" "$dir"
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && run_as "$user" npm ci --prefer-offline --no-audit >"$work/npm-install.log" 2>&1) || { cat "$work/npm-install.log" >&2; return 1; }
  else
    (cd "$dir" && run_as "$user" npm install --prefer-offline --no-audit >"$work/npm-install.log" 2>&1) || { cat "$work/npm-install.log" >&2; return 1; }
  fi
  port=$(free_port)
  value="fresh-start $user $RANDOM"
  pid=$(start "$user" "$dir" "$port" "$work/start1.log")
  PIDS+=("$pid")
  [ "$(redis-cli -p "$port" set fresh:key "$value")" = OK ] || { echo "SET failed ($user)" >&2; return 1; }
  stop "$pid"
  pid=$(start "$user" "$dir" "$port" "$work/start2.log")
  PIDS+=("$pid")
  got=$(redis-cli -p "$port" get fresh:key)
  stop "$pid"
  if [ "$got" != "$value" ]; then
    echo "fresh start as $user: GET returned '$got', expected '$value'" >&2
    cat "$work/start2.log" >&2
    return 1
  fi
  echo "fresh start as $user in '$dir': npm ci, npm start, SET, SIGTERM, npm start, GET ok ($((SECONDS - t0)) s)"
}

round root "$ROOT_WORK"

# the unprivileged user gets a copy of the clone source's npm cache (no network needed)
mkdir -p "$USER_WORK/home"
cp -r "$NPM_CACHE" "$USER_WORK/home/.npm"
chown -R nobody:"$(id -gn nobody)" "$USER_WORK"
# the checkout may sit where nobody cannot read it (/root/...): clone it as root, hand it over
git clone -q "$SRC" "$USER_WORK/src"
chown -R nobody:"$(id -gn nobody)" "$USER_WORK/src"
SRC="$USER_WORK/src"
round nobody "$USER_WORK"
