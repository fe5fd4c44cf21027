#!/usr/bin/env bash
# Installs (if missing) and starts the real PostgreSQL and Redis servers the tests and the
# production mode use, bound to 127.0.0.1 only. Idempotent: running it twice is harmless.
#
#   scripts/services.sh start    install if needed, start, wait until ready (default)
#   scripts/services.sh stop     stop both servers
#   scripts/services.sh env      print the DATABASE_URL / REDIS_URL exports
#
# State lives in $SLUICE_SERVICES_DIR (default ./.cache/services).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${SLUICE_SERVICES_DIR:-$PWD/.cache/services}"
PG_PORT="${SLUICE_TEST_PG_PORT:-5432}"
REDIS_PORT="${SLUICE_TEST_REDIS_PORT:-6379}"
PG_USER=sluice
PG_PASSWORD=sluice

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "services.sh: need root to apt-get install $*" >&2; exit 1; fi
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
  local v
  for v in 18 17 16 15 14; do
    if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then echo "/usr/lib/postgresql/$v/bin"; return; fi
  done
}

ensure_installed() {
  [ -n "$(pg_bin)" ] || apt_install postgresql
  command -v redis-server >/dev/null || apt_install redis-server
}

start_pg() {
  local bin; bin="$(pg_bin)"
  mkdir -p "$DIR"
  # PostgreSQL refuses to run as root: the server runs as the 'postgres' system user.
  local owner=postgres; id postgres >/dev/null 2>&1 || owner="$(id -un)"
  if [ ! -s "$DIR/pg/PG_VERSION" ]; then
    mkdir -p "$DIR/pg"; chown "$owner" "$DIR/pg"; chmod 700 "$DIR/pg"
    local pwfile; pwfile="$(mktemp)"; echo "$PG_PASSWORD" >"$pwfile"; chown "$owner" "$pwfile"
    run_as "$owner" "$bin/initdb" -D "$DIR/pg" -U "$PG_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
    cat >>"$DIR/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DIR/pgrun'
max_connections = 400
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  mkdir -p "$DIR/pgrun"; chown "$owner" "$DIR/pgrun"; chmod 755 "$DIR"
  if ! run_as "$owner" "$bin/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then
    run_as "$owner" "$bin/pg_ctl" -D "$DIR/pg" -l "$DIR/pgrun/pg.log" -w -t 60 start >/dev/null
  fi
}

start_redis() {
  mkdir -p "$DIR/redis"
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    # BullMQ needs noeviction: an evicted key would silently lose a queued job.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$DIR/redis" \
      --maxmemory-policy noeviction --save "" --appendonly no --logfile "$DIR/redis.log"
  fi
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "services.sh: redis did not come up" >&2; exit 1
}

run_as() {
  local user="$1"; shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"; fi
}

print_env() {
  echo "export DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

case "${1:-start}" in
  start) ensure_installed; start_pg; start_redis; print_env >"$DIR/env"; print_env ;;
  stop)
    bin="$(pg_bin)"; owner=postgres; id postgres >/dev/null 2>&1 || owner="$(id -un)"
    [ -d "$DIR/pg" ] && run_as "$owner" "$bin/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
  env) print_env ;;
  *) echo "usage: $0 [start|stop|env]" >&2; exit 2 ;;
esac
