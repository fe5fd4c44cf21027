#!/usr/bin/env bash
# Installs the real PostgreSQL clients the pgwire tests drive, when they are missing, and caches them
# under .cache/pgwire-clients (never committed):
#   psql      Debian's postgresql-client
#   pgJDBC    org.postgresql:postgresql from Maven Central (mvn dependency:copy), or Debian's
#             libpostgresql-jdbc-java when Maven cannot fetch it
#   psycopg   psycopg[binary] from PyPI, pip install --target .cache/pgwire-clients/python
# Prints `export NAME=value` lines for the tests: PGWIRE_PGJDBC_JAR, PGWIRE_PYTHONPATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/pgwire-clients"
mkdir -p "$cache"
PGJDBC_VERSION="${PGWIRE_PGJDBC_VERSION:-42.7.4}"
PSYCOPG_VERSION="${PGWIRE_PSYCOPG_VERSION:-3.3.9}"
exec 9>"$cache/.lock"
flock 9

log() { echo "pgwire-clients: $*" >&2; }

apt_install() {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  else
    sudo -n apt-get update -qq >&2 || true
    sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  fi
}

if ! command -v psql >/dev/null 2>&1; then
  log "installing postgresql-client"
  apt_install postgresql-client
fi

jar="$cache/postgresql-$PGJDBC_VERSION.jar"
if [ ! -s "$jar" ]; then
  if command -v mvn >/dev/null 2>&1 && mvn -q -B dependency:copy -Dartifact="org.postgresql:postgresql:$PGJDBC_VERSION" -DoutputDirectory="$cache" >&2; then
    log "pgJDBC $PGJDBC_VERSION from Maven Central"
  else
    if [ ! -s /usr/share/java/postgresql.jar ]; then
      log "installing libpostgresql-jdbc-java"
      apt_install libpostgresql-jdbc-java
    fi
    jar="$cache/postgresql-debian.jar"
    cp -L /usr/share/java/postgresql.jar "$jar"
  fi
fi
if ! command -v javac >/dev/null 2>&1; then
  log "installing a JDK"
  apt_install openjdk-17-jdk-headless
fi

py="$cache/python"
if ! PYTHONPATH="$py" python3 -c 'import psycopg, sys; sys.exit(0 if psycopg.__version__ == sys.argv[1] else 1)' "$PSYCOPG_VERSION" >/dev/null 2>&1; then
  log "installing psycopg $PSYCOPG_VERSION"
  rm -rf "$py"
  python3 -m pip install --quiet --disable-pip-version-check --target "$py" "psycopg[binary]==$PSYCOPG_VERSION" >&2
fi

echo "export PGWIRE_PGJDBC_JAR=$jar"
echo "export PGWIRE_PYTHONPATH=$py"
