#!/usr/bin/env bash
# A real Apache Spark for the engine-conn-spark tests and benchmark, installed from PyPI: the pyspark
# package ships the whole Spark distribution (jars/, bin/spark-submit, the Spark Connect server jar with
# its .proto files). Nothing here is committed; everything lives in the cache directory.
# Idempotent: every command can run twice, and concurrent callers serialise on a lock.
#
#   scripts/engines/spark.sh fetch    pip install pyspark==<v> into the cache (first run: ~450 MB, 1-3 min)
#   scripts/engines/spark.sh env      fetch if needed, then print the exports the tests read
#   scripts/engines/spark.sh home     print SPARK_HOME (exit 1 when not fetched)
#   scripts/engines/spark.sh start    fetch if needed, start a standalone cluster (one Master, one Worker) on
#                                     127.0.0.1 from the same distribution, wait until the Worker registered,
#                                     then print the env exports plus SPARK_MASTER_URL and SPARK_MASTER_WEBUI
#   scripts/engines/spark.sh stop     stop the standalone cluster
#   scripts/engines/spark.sh status   print running/stopped (exit 0 when the cluster runs)
#
# Settings (environment):
#   SPARK_VERSION         pyspark release (default 4.1.4: Spark 4.1, Scala 2.13, runs on Java 17 and 21)
#   SPARK_JAVA_HOME       JDK to run Spark with (default: a JDK 17 or 21 under /usr/lib/jvm or /opt)
#   SPARK_PYTHON          Python for PySpark batch jobs (default: python3 on PATH)
#   SLUICE_ENGINE_CACHE   where releases live (default ./.cache/engines; never committed)
#   SPARK_MASTER_PORT     standalone Master RPC port (default 17077)
#   SPARK_MASTER_WEBUI    standalone Master web UI port, which serves /json (default 18090)
#   SPARK_WORKER_WEBUI    Worker web UI port (default 18091)
#   SPARK_WORKER_CORES    cores the Worker offers (default 2)
#   SPARK_WORKER_MEMORY   memory the Worker offers to executors (default 2g)
#
# The standalone cluster (Master and Worker JVMs, 256 MB heap each) binds every port to 127.0.0.1; its
# logs, pid files and the Worker's application directories live in $SLUICE_ENGINE_CACHE/spark-<v>-standalone.
# It runs until `stop`. The executors it launches run the same distribution.
#
# The exports: SPARK_HOME (pyspark's bundled distribution, with bin/, jars/ and python/lib/), SPARK_VERSION,
# SPARK_JAVA_HOME and SPARK_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/engines/lib.sh
. scripts/engines/lib.sh

VERSION="${SPARK_VERSION:-4.1.4}"
CACHE="${SLUICE_ENGINE_CACHE:-$PWD/.cache/engines}"
TARGET="$CACHE/pyspark-$VERSION"
HOME_DIR="$TARGET/pyspark"
MARKER="$TARGET/.sluice-complete"

MASTER_PORT="${SPARK_MASTER_PORT:-17077}"
MASTER_WEBUI="${SPARK_MASTER_WEBUI:-18090}"
WORKER_WEBUI="${SPARK_WORKER_WEBUI:-18091}"
WORKER_CORES="${SPARK_WORKER_CORES:-2}"
WORKER_MEMORY="${SPARK_WORKER_MEMORY:-2g}"
STATE="$CACHE/spark-$VERSION-standalone"
RUN="$STATE/run"
LOGS="$STATE/log"

log() { echo "spark.sh: $*" >&2; }

java_feature() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

# Spark 4.x runs on Java 17 and 21. Picks SPARK_JAVA_HOME, else JAVA_HOME when it fits, else the
# first JDK 17 (then 21) under /usr/lib/jvm or /opt.
find_java() {
  if [ -n "${SPARK_JAVA_HOME:-}" ]; then echo "$SPARK_JAVA_HOME"; return; fi
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    case "$(java_feature "$JAVA_HOME")" in 17 | 21) echo "$JAVA_HOME"; return ;; esac
  fi
  local want home
  for want in 17 21; do
    for home in /usr/lib/jvm/* /opt/*; do
      [ -x "$home/bin/java" ] || continue
      if [ "$(java_feature "$home")" = "$want" ]; then echo "$(cd "$home" && pwd -P)"; return; fi
    done
  done
  log "Spark $VERSION needs Java 17 or 21; none found under /usr/lib/jvm or /opt (set SPARK_JAVA_HOME)"
  exit 1
}

find_python() {
  if [ -n "${SPARK_PYTHON:-}" ]; then echo "$SPARK_PYTHON"; return; fi
  command -v python3 || { log "python3 not found (set SPARK_PYTHON)"; exit 1; }
}

fetch() {
  if [ -f "$MARKER" ]; then return; fi
  local python; python="$(find_python)"
  local tmp="$TARGET.partial-$$"
  rm -rf "$tmp"
  log "installing pyspark==$VERSION from PyPI into $TARGET (about 450 MB download)"
  "$python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-compile \
    --target "$tmp" "pyspark==$VERSION" >&2
  local jar
  jar="$(ls "$tmp/pyspark/jars/"spark-connect_2.13-*.jar 2>/dev/null | head -1 || true)"
  if [ -z "$jar" ]; then
    rm -rf "$tmp"
    log "pyspark $VERSION has no jars/spark-connect_2.13-*.jar: choose a Spark 4.x release"
    exit 1
  fi
  chmod +x "$tmp/pyspark/bin/"* "$tmp/pyspark/sbin/"* 2>/dev/null || true
  rm -rf "$TARGET"
  mv "$tmp" "$TARGET"
  touch "$MARKER"
  log "Spark $VERSION installed: $HOME_DIR"
}

print_env() {
  echo "export SPARK_HOME=$HOME_DIR"
  echo "export SPARK_VERSION=$VERSION"
  echo "export SPARK_JAVA_HOME=$(find_java)"
  echo "export SPARK_PYTHON=$(find_python)"
}

pid_of() { [ -s "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
alive() { local pid; pid="$(pid_of "$1")" && [ -n "$pid" ] && pid_alive "$pid"; }
running() { alive master && alive worker; }

# The Master answers on its web UI, is ALIVE and has an ALIVE Worker registered.
cluster_ready() {
  local json
  json="$(curl -sf -m 2 "http://127.0.0.1:$MASTER_WEBUI/json/" 2>/dev/null)" || return 1
  echo "$json" | grep -Eq '"status" *: *"ALIVE"' && echo "$json" | grep -Eq '"aliveworkers" *: *[1-9]'
}

# Starts one daemon JVM through bin/spark-class in its own session, loopback only, recording its pid.
daemon() {
  local name="$1" java="$2"; shift 2
  mkdir -p "$RUN" "$LOGS" "$STATE/conf" "$STATE/tmp" "$STATE/work"
  # WARN and up, plus the deploy classes' own lines (registration, executors launched).
  printf '%s\n' 'rootLogger.level = warn' 'rootLogger.appenderRef.stderr.ref = console' \
    'appender.console.type = Console' 'appender.console.name = console' 'appender.console.target = SYSTEM_ERR' \
    'appender.console.layout.type = PatternLayout' 'appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex' \
    'logger.deploy.name = org.apache.spark.deploy' 'logger.deploy.level = info' >"$STATE/conf/log4j2.properties"
  # 9>&-: the JVM must not inherit the lock's descriptor, or it would hold the lock while it runs.
  JAVA_HOME="$java" SPARK_HOME="$HOME_DIR" SPARK_CONF_DIR="$STATE/conf" SPARK_LOCAL_IP=127.0.0.1 \
    SPARK_LOCAL_DIRS="$STATE/tmp" SPARK_DAEMON_MEMORY=256m PYSPARK_PYTHON="$(find_python)" \
    SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false" \
    setsid "$HOME_DIR/bin/spark-class" "$@" </dev/null >"$LOGS/$name.log" 2>&1 9>&- &
  echo $! >"$RUN/$name.pid"
}

stop_daemon() {
  local name="$1" pid
  pid="$(pid_of "$name")" || return 0
  if [ -n "$pid" ] && pid_alive "$pid"; then
    # The Worker kills its executors when it stops.
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then
      log "the standalone $name did not stop within 20 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN/$name.pid"
}

stop_cluster() {
  stop_daemon worker
  stop_daemon master
}

start_cluster() {
  fetch
  if running && cluster_ready; then return; fi
  # A partial cluster (one JVM died, or a previous start failed) is restarted whole.
  stop_cluster
  local java; java="$(find_java)"
  log "starting a Spark $VERSION standalone cluster: spark://127.0.0.1:$MASTER_PORT, web UI http://127.0.0.1:$MASTER_WEBUI"
  daemon master "$java" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_WEBUI"
  daemon worker "$java" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --webui-port "$WORKER_WEBUI" --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" \
    --work-dir "$STATE/work" "spark://127.0.0.1:$MASTER_PORT"
  local deadline=$((SECONDS + ${SPARK_START_TIMEOUT:-180})) c
  until cluster_ready; do
    for c in master worker; do
      if ! alive "$c"; then
        log "the standalone $c exited during start-up; last lines of $LOGS/$c.log:"
        tail -n 30 "$LOGS/$c.log" >&2 || true
        stop_cluster
        exit 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      log "the standalone cluster did not become ready in time"
      tail -n 20 "$LOGS/master.log" "$LOGS/worker.log" >&2 || true
      stop_cluster
      exit 1
    fi
    sleep 1
  done
  log "Spark standalone cluster ready: spark://127.0.0.1:$MASTER_PORT"
}

print_cluster_env() {
  echo "export SPARK_MASTER_URL=spark://127.0.0.1:$MASTER_PORT"
  echo "export SPARK_MASTER_WEBUI=http://127.0.0.1:$MASTER_WEBUI"
}

locked() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/spark.lock"
  flock 9
  "$@"
}

case "${1:-env}" in
  fetch) locked fetch ;;
  env) locked fetch; print_env ;;
  home) if [ -f "$MARKER" ]; then echo "$HOME_DIR"; else exit 1; fi ;;
  start) locked start_cluster; print_env; print_cluster_env ;;
  stop) locked stop_cluster ;;
  status) if running && cluster_ready; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 fetch|env|home|start|stop|status" >&2; exit 2 ;;
esac
