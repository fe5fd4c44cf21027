#!/usr/bin/env bash
# Installs (if missing) and starts the real MariaDB and ClickHouse servers the JDBC engine's tests
# use, bound to 127.0.0.1 only. Idempotent: running it twice is harmless. PostgreSQL and Redis are
# scripts/services.sh's business.
#
#   scripts/services-jdbc.sh start    install if needed, start, wait until ready (default)
#   scripts/services-jdbc.sh stop     stop both servers
#   scripts/services-jdbc.sh env      print the MYSQL_URL / CLICKHOUSE_URL exports
#
# Both come from Debian's packages (mariadb-server; clickhouse-server, which is ClickHouse 18.16 on
# Debian 12). State lives in $SLUICE_SERVICES_DIR (default ./.cache/services), in mariadb/ and
# clickhouse/. Each server gets a user `sluice` with password `sluice` that may do everything.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${SLUICE_SERVICES_DIR:-$PWD/.cache/services}"
MYSQL_PORT="${SLUICE_TEST_MYSQL_PORT:-3306}"
CH_HTTP_PORT="${SLUICE_TEST_CLICKHOUSE_PORT:-8123}"
CH_TCP_PORT="${SLUICE_TEST_CLICKHOUSE_TCP_PORT:-19000}"
DB_USER=sluice
DB_PASSWORD=sluice

apt_install() {
  if [ "$(id -u)" != 0 ]; then echo "services-jdbc.sh: need root to apt-get install $*" >&2; exit 1; fi
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq; _APT_UPDATED=1; fi
  # policy-rc.d or a missing init keeps the packaged services from starting: we start our own.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_installed() {
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  [ -x /usr/sbin/clickhouse-server ] || apt_install clickhouse-server
  # eatmydata turns fsync into a no-op for the test servers: DDL-heavy tests (10,000 tables) would
  # otherwise wait on the disk for every table, several times.
  command -v eatmydata >/dev/null || apt_install eatmydata
}

run_as() {
  local user="$1"; shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"; fi
}

# The system user a server runs as: its package's user when we are root, else ourselves.
owner_of() {
  if [ "$(id -u)" = 0 ] && id "$1" >/dev/null 2>&1; then echo "$1"; else id -un; fi
}

wait_port() { # name port tries
  for _ in $(seq 1 "$3"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "services-jdbc.sh: $1 did not come up on 127.0.0.1:$2" >&2; return 1
}

mysql_admin() {
  mariadb --protocol=socket --socket="$DIR/mariadbrun/mysqld.sock" -uroot "$@"
}

start_mariadb() {
  local owner; owner="$(owner_of mysql)"
  mkdir -p "$DIR/mariadb" "$DIR/mariadbrun"; chmod 755 "$DIR"
  chown "$owner" "$DIR/mariadb" "$DIR/mariadbrun"
  if [ ! -d "$DIR/mariadb/mysql" ]; then
    run_as "$owner" mariadb-install-db --no-defaults --datadir="$DIR/mariadb" --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/mariadbrun/install.log" 2>&1 || { cat "$DIR/mariadbrun/install.log" >&2; exit 1; }
  fi
  if ! mysql_admin -e 'SELECT 1' >/dev/null 2>&1; then
    # --no-defaults: the Debian /etc/mysql files would bind other sockets and directories. A test server:
    # durability is traded for speed (no fsync, see eatmydata above).
    run_as "$owner" sh -c "setsid nohup eatmydata /usr/sbin/mariadbd --no-defaults --datadir='$DIR/mariadb' --bind-address=127.0.0.1 \
      --port=$MYSQL_PORT --socket='$DIR/mariadbrun/mysqld.sock' --pid-file='$DIR/mariadbrun/mysqld.pid' \
      --log-error='$DIR/mariadbrun/error.log' --max-connections=500 --innodb-buffer-pool-size=256M \
      --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-flush-method=nosync --skip-sync-frm \
      --aria-sync-log-dir=NEVER --sync-binlog=0 --skip-name-resolve \
      --table-open-cache=4000 --table-definition-cache=4000 >/dev/null 2>&1 &" 9>&-
    for _ in $(seq 1 150); do mysql_admin -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
    mysql_admin -e 'SELECT 1' >/dev/null 2>&1 || { echo "services-jdbc.sh: mariadb did not come up; see $DIR/mariadbrun/error.log" >&2; exit 1; }
  fi
  mysql_admin -e "CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
    CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
    GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS sluice;"
  wait_port mariadb "$MYSQL_PORT" 50
}

write_clickhouse_config() {
  local conf="$DIR/clickhouse/config.xml" users="$DIR/clickhouse/users.xml" hash
  hash="$(printf '%s' "$DB_PASSWORD" | sha256sum | cut -d' ' -f1)"
  cat >"$conf" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$DIR/clickhouse/log/server.log</log><errorlog>$DIR/clickhouse/log/error.log</errorlog><size>50M</size><count>2</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$CH_HTTP_PORT</http_port>
  <tcp_port>$CH_TCP_PORT</tcp_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>200</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$DIR/clickhouse/data/</path>
  <tmp_path>$DIR/clickhouse/tmp/</tmp_path>
  <user_files_path>$DIR/clickhouse/user_files/</user_files_path>
  <format_schema_path>$DIR/clickhouse/format_schemas/</format_schema_path>
  <users_config>$users</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <max_session_timeout>86400</max_session_timeout>
  <default_session_timeout>3600</default_session_timeout>
</yandex>
XML
  cat >"$users" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>4000000000</max_memory_usage></default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota>
    </default>
    <$DB_USER>
      <password_sha256_hex>$hash</password_sha256_hex>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota>
    </$DB_USER>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
}

clickhouse_ping() {
  [ "$(curl -s --max-time 2 "http://127.0.0.1:$CH_HTTP_PORT/ping" 2>/dev/null)" = "Ok." ]
}

start_clickhouse() {
  # A running server is left alone: rewriting its config or walking its data (tests create and drop
  # thousands of tables) would race with it.
  clickhouse_ping && return 0
  local owner; owner="$(owner_of clickhouse)"
  mkdir -p "$DIR/clickhouse/data" "$DIR/clickhouse/tmp" "$DIR/clickhouse/user_files" "$DIR/clickhouse/format_schemas" "$DIR/clickhouse/log"
  chmod 755 "$DIR"
  write_clickhouse_config
  chown "$owner" "$DIR/clickhouse" "$DIR/clickhouse/data" "$DIR/clickhouse/tmp" "$DIR/clickhouse/user_files" \
    "$DIR/clickhouse/format_schemas" "$DIR/clickhouse/log" "$DIR/clickhouse/config.xml" "$DIR/clickhouse/users.xml"
  if ! clickhouse_ping; then
    run_as "$owner" sh -c "cd '$DIR/clickhouse' && setsid nohup eatmydata /usr/sbin/clickhouse-server --config-file='$DIR/clickhouse/config.xml' \
      >'$DIR/clickhouse/log/stdout.log' 2>&1 &" 9>&-
    for _ in $(seq 1 150); do clickhouse_ping && break; sleep 0.2; done
    clickhouse_ping || { echo "services-jdbc.sh: clickhouse did not come up; see $DIR/clickhouse/log" >&2; exit 1; }
  fi
}

print_env() {
  echo "export MYSQL_URL=mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT/sluice"
  echo "export CLICKHOUSE_URL=http://$DB_USER:$DB_PASSWORD@127.0.0.1:$CH_HTTP_PORT/default"
}

stop_all() {
  if [ -S "$DIR/mariadbrun/mysqld.sock" ]; then mysql_admin -e 'SHUTDOWN' >/dev/null 2>&1 || true; fi
  # ClickHouse writes no pid file when not daemonized: find it by its config file.
  local pid
  for pid in $(pgrep -f "clickhouse-server --config-file=$DIR/clickhouse/config.xml" || true); do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
}

case "${1:-start}" in
  start)
    # Test files start in parallel and may all call this: one start at a time. The servers are
    # started with the lock's descriptor closed (9>&-), or they would hold the lock forever.
    mkdir -p "$DIR"
    exec 9>"$DIR/.services-jdbc.lock"
    flock 9
    command -v curl >/dev/null || apt_install curl
    ensure_installed; start_mariadb; start_clickhouse; mkdir -p "$DIR"; print_env >"$DIR/env-jdbc"; print_env ;;
  stop) stop_all ;;
  env) print_env ;;
  *) echo "usage: $0 [start|stop|env]" >&2; exit 2 ;;
esac
