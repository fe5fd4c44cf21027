#!/usr/bin/env bash
# A real single-node Trino server for the engine-conn-presto tests and benchmark, bound to 127.0.0.1.
# Idempotent: every command can run twice, and concurrent callers serialise on a lock.
#
#   scripts/engines/trino.sh fetch    download io.trino:trino-server:<v>:tar.gz with Maven, unpack it
#   scripts/engines/trino.sh start    fetch if needed, configure, start in the background, wait until ready
#   scripts/engines/trino.sh stop     stop the server started by `start`
#   scripts/engines/trino.sh status   print running/stopped (exit 0 when running)
#   scripts/engines/trino.sh env      print the exports the tests read (TRINO_URL, ...)
#
# Settings (environment):
#   TRINO_VERSION         server release (default 476: the newest on Maven Central; it needs JDK >= 24)
#   TRINO_JAVA_HOME       JDK to run it with (default: the newest JDK >= 24 under /usr/lib/jvm or /opt)
#   TRINO_PORT            plain HTTP port, no authentication (default 18080)
#   TRINO_HTTPS_PORT      HTTPS port with PASSWORD and JWT authentication (default 18443)
#   TRINO_HEAP            JVM heap (default 2560M)
#   SLUICE_ENGINE_CACHE   where releases and server state live (default ./.cache/engines; never committed)
#   SLUICE_MAVEN_REPO     Maven local repository (default ~/.m2/repository)
#
# The server has the tpch and memory catalogs. Its HTTP port trusts the X-Trino-User header (insecure
# authentication, as in any test cluster); its HTTPS port uses a self-signed certificate (CA file in
# $TRINO_AUTH_DIR/ca.pem) and accepts a file-based user and password, or an HS256 JWT signed with the
# key in $TRINO_AUTH_DIR/jwt.key. It also accepts the X-Presto-* header family
# (protocol.v1.alternate-header-name=Presto), so the Presto flavour of the client is tested too.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/engines/lib.sh
. scripts/engines/lib.sh

VERSION="${TRINO_VERSION:-476}"
PORT="${TRINO_PORT:-18080}"
HTTPS_PORT="${TRINO_HTTPS_PORT:-18443}"
HEAP="${TRINO_HEAP:-2560M}"
CACHE="${SLUICE_ENGINE_CACHE:-$PWD/.cache/engines}"
M2="${SLUICE_MAVEN_REPO:-$HOME/.m2/repository}"
SERVER="$CACHE/trino-server-$VERSION"
STATE="$CACHE/trino-$VERSION-state"
AUTH="$STATE/auth"
PIDFILE="$STATE/data/var/run/launcher.pid"
TEST_USER="sluice_test"
# Plugins the tests use; the others are not unpacked (they are most of the 800 MB and of the start-up time).
PLUGINS=(tpch memory password-authenticators)

log() { echo "trino.sh: $*" >&2; }

# The Java feature release a Trino release needs (release notes: 436 -> 21, 447 -> 22, 464 -> 23, 476 -> 24).
required_java() {
  local v="$1"
  if [ "$v" -ge 476 ]; then echo 24
  elif [ "$v" -ge 464 ]; then echo 23
  elif [ "$v" -ge 447 ]; then echo 22
  elif [ "$v" -ge 436 ]; then echo 21
  else echo 17; fi
}

java_feature() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

# Picks TRINO_JAVA_HOME, else the newest JDK under /usr/lib/jvm or /opt that is new enough.
find_java() {
  local need; need="$(required_java "$VERSION")"
  if [ -n "${TRINO_JAVA_HOME:-}" ]; then echo "$TRINO_JAVA_HOME"; return; fi
  local best="" best_v=0 home v
  for home in /usr/lib/jvm/* /opt/*; do
    [ -x "$home/bin/java" ] || continue
    v="$(java_feature "$home")"
    [ -n "$v" ] || continue
    if [ "$v" -ge "$need" ] && [ "$v" -gt "$best_v" ]; then best="$home"; best_v="$v"; fi
  done
  if [ -z "$best" ]; then
    log "Trino $VERSION needs Java $need or newer; none found under /usr/lib/jvm or /opt (set TRINO_JAVA_HOME)"
    exit 1
  fi
  echo "$best"
}

fetch() {
  if [ -x "$SERVER/bin/launcher" ]; then return; fi
  local tarball="$M2/io/trino/trino-server/$VERSION/trino-server-$VERSION.tar.gz"
  if [ ! -s "$tarball" ]; then
    log "downloading io.trino:trino-server:$VERSION:tar.gz from Maven Central (about 800 MB)"
    mvn -B -q -Dmaven.repo.local="$M2" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:get \
      -Dartifact="io.trino:trino-server:$VERSION:tar.gz" -Dtransitive=false >&2
  fi
  log "unpacking $tarball"
  local tmp="$CACHE/.unpack-$VERSION-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local members=("trino-server-$VERSION/bin" "trino-server-$VERSION/lib" "trino-server-$VERSION/NOTICE" "trino-server-$VERSION/README.txt")
  local p; for p in "${PLUGINS[@]}"; do members+=("trino-server-$VERSION/plugin/$p"); done
  tar -xzf "$tarball" -C "$tmp" "${members[@]}"
  rm -rf "$SERVER"
  mv "$tmp/trino-server-$VERSION" "$SERVER"
  rm -rf "$tmp"
}

# Self-signed TLS material, the password file and the JWT key; made once per state directory.
make_auth() {
  mkdir -p "$AUTH"
  if [ ! -s "$AUTH/keystore.p12" ]; then
    local java; java="$(find_java)"
    rm -f "$AUTH/keystore.p12"
    "$java/bin/keytool" -genkeypair -alias trino -keyalg RSA -keysize 2048 -validity 3650 -storetype PKCS12 \
      -keystore "$AUTH/keystore.p12" -storepass sluice-test -keypass sluice-test \
      -dname "CN=127.0.0.1" -ext "SAN=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1
    "$java/bin/keytool" -exportcert -rfc -alias trino -keystore "$AUTH/keystore.p12" -storepass sluice-test >"$AUTH/ca.pem" 2>/dev/null
  fi
  if [ ! -s "$AUTH/password" ]; then
    openssl rand -hex 16 >"$AUTH/password"
    # Trino's file authenticator takes PBKDF2 entries: user:iterations:salt(hex):PBKDF2WithHmacSHA1(hex).
    node -e '
      const { pbkdf2Sync, randomBytes } = require("node:crypto");
      const [user, password] = process.argv.slice(1);
      const salt = randomBytes(16);
      const hash = pbkdf2Sync(password, salt, 1000, 64, "sha1");
      process.stdout.write(`${user}:1000:${salt.toString("hex")}:${hash.toString("hex")}\n`);
    ' "$TEST_USER" "$(cat "$AUTH/password")" >"$AUTH/password.db"
  fi
  # HS256 key; Trino reads a non-PEM key file as base64 of the HMAC key bytes.
  [ -s "$AUTH/jwt.key" ] || openssl rand -base64 48 | tr -d '\n' >"$AUTH/jwt.key"
  [ -s "$AUTH/shared-secret" ] || openssl rand -base64 32 | tr -d '\n' >"$AUTH/shared-secret"
  chmod 600 "$AUTH"/*
}

configure() {
  local etc="$STATE/etc"
  mkdir -p "$etc/catalog" "$STATE/data"
  make_auth
  cat >"$etc/node.properties" <<EOF
node.environment=sluice_test
node.id=sluice-test-coordinator
node.data-dir=$STATE/data
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
EOF
  cat >"$etc/jvm.config" <<EOF
-server
-Xmx$HEAP
-XX:InitialRAMPercentage=5
-XX:+UseG1GC
-XX:G1HeapRegionSize=32M
-XX:+ExplicitGCInvokesConcurrent
-XX:+ExitOnOutOfMemoryError
-XX:+HeapDumpOnOutOfMemoryError
-XX:HeapDumpPath=$STATE/data
-XX:-OmitStackTraceInFastThrow
-XX:ReservedCodeCacheSize=256M
-Djdk.attach.allowAttachSelf=true
-Djdk.nio.maxCachedBufferSize=2000000
-Dfile.encoding=UTF-8
-XX:+EnableDynamicAgentLoading
EOF
  cat >"$etc/config.properties" <<EOF
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$PORT
discovery.uri=http://127.0.0.1:$PORT
query.max-memory=1GB
query.max-memory-per-node=1GB
http-server.log.enabled=false
protocol.v1.alternate-header-name=Presto
http-server.https.enabled=true
http-server.https.port=$HTTPS_PORT
http-server.https.keystore.path=$AUTH/keystore.p12
http-server.https.keystore.key=sluice-test
http-server.authentication.type=PASSWORD,JWT
http-server.authentication.allow-insecure-over-http=true
http-server.authentication.jwt.key-file=$AUTH/jwt.key
internal-communication.shared-secret=$(cat "$AUTH/shared-secret")
EOF
  cat >"$etc/password-authenticator.properties" <<EOF
password-authenticator.name=file
file.password-file=$AUTH/password.db
EOF
  # allow-all: unlike the default control it lets the data source's principal (sluice_test) run queries
  # as the Sluice user (impersonation), which a real cluster grants with an impersonation rule.
  echo "access-control.name=allow-all" >"$etc/access-control.properties"
  cat >"$etc/log.properties" <<EOF
io.trino=INFO
EOF
  echo "connector.name=tpch" >"$etc/catalog/tpch.properties"
  cat >"$etc/catalog/memory.properties" <<EOF
connector.name=memory
memory.max-data-per-node=256MB
EOF
}

running() {
  [ -s "$PIDFILE" ] && pid_alive "$(cat "$PIDFILE")"
}

info_ready() {
  curl -sf -m 2 "http://127.0.0.1:$PORT/v1/info" 2>/dev/null | grep -q '"starting":false'
}

# Runs SELECT 1 through the client protocol: /v1/info says the server started before the coordinator
# sees itself as an active worker, and queries fail with "No nodes available" until then.
query_ready() {
  local body next
  body="$(curl -sf -m 5 -X POST -H 'X-Trino-User: readiness' --data 'SELECT 1' "http://127.0.0.1:$PORT/v1/statement" 2>/dev/null)" || return 1
  for _ in $(seq 1 100); do
    if echo "$body" | grep -q '"error"'; then return 1; fi
    next="$(echo "$body" | sed -nE 's/.*"nextUri":"([^"]+)".*/\1/p')"
    [ -n "$next" ] || return 0
    body="$(curl -sf -m 5 -H 'X-Trino-User: readiness' "$next" 2>/dev/null)" || return 1
  done
  return 1
}

start() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/trino.lock"
  flock 9
  if running && info_ready && query_ready; then return; fi
  fetch
  local java; java="$(find_java)"
  if ! running; then
    configure
    log "starting Trino $VERSION with $("$java/bin/java" -version 2>&1 | head -1) on 127.0.0.1:$PORT"
    # 9>&-: the server must not inherit the lock's descriptor, or it would hold the lock while it runs.
    JAVA_HOME="$java" PATH="$java/bin:$PATH" "$SERVER/bin/launcher" start \
      --etc-dir="$STATE/etc" --data-dir="$STATE/data" --pid-file="$PIDFILE" >&2 9>&-
  fi
  local deadline=$((SECONDS + ${TRINO_START_TIMEOUT:-300}))
  until info_ready && query_ready; do
    if ! running; then
      log "Trino exited during start-up; last lines of $STATE/data/var/log/server.log:"
      tail -n 40 "$STATE/data/var/log/server.log" >&2 || true
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then log "Trino did not become ready in time"; exit 1; fi
    sleep 1
  done
  log "Trino $VERSION is ready at http://127.0.0.1:$PORT"
}

stop() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/trino.lock"
  flock 9
  if ! running; then return; fi
  local pid; pid="$(cat "$PIDFILE")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do pid_alive "$pid" || { rm -f "$PIDFILE"; return; }; sleep 0.2; done
  log "Trino did not stop within 30 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

print_env() {
  echo "export TRINO_URL=http://127.0.0.1:$PORT"
  echo "export TRINO_HTTPS_URL=https://127.0.0.1:$HTTPS_PORT"
  echo "export TRINO_AUTH_DIR=$AUTH"
}

case "${1:-start}" in
  fetch) mkdir -p "$CACHE"; exec 9>"$CACHE/trino.lock"; flock 9; fetch ;;
  start) start; print_env ;;
  stop) stop ;;
  status) if running && info_ready; then echo running; else echo stopped; exit 1; fi ;;
  env) print_env ;;
  *) echo "usage: $0 fetch|start|stop|status|env" >&2; exit 2 ;;
esac
