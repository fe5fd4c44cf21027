#!/usr/bin/env bash
# A real Apache Spark for the engine-conn-spark tests and benchmark, installed from PyPI: the pyspark
# package ships the whole Spark distribution (jars/, bin/spark-submit, the Spark Connect server jar with
# its .proto files). Nothing here is committed; everything lives in the cache directory.
# Idempotent: every command can run twice, and concurrent callers serialise on a lock.
#
#   scripts/engines/spark.sh fetch    pip install pyspark==<v> into the cache (first run: ~450 MB, 1-3 min)
#   scripts/engines/spark.sh env      fetch if needed, then print the exports the tests read
#   scripts/engines/spark.sh home     print SPARK_HOME (exit 1 when not fetched)
#
# Settings (environment):
#   SPARK_VERSION         pyspark release (default 4.1.4: Spark 4.1, Scala 2.13, runs on Java 17 and 21)
#   SPARK_JAVA_HOME       JDK to run Spark with (default: a JDK 17 or 21 under /usr/lib/jvm or /opt)
#   SPARK_PYTHON          Python for PySpark batch jobs (default: python3 on PATH)
#   SLUICE_ENGINE_CACHE   where releases live (default ./.cache/engines; never committed)
#
# The exports: SPARK_HOME (pyspark's bundled distribution, with bin/, jars/ and python/lib/), SPARK_VERSION,
# SPARK_JAVA_HOME and SPARK_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION="${SPARK_VERSION:-4.1.4}"
CACHE="${SLUICE_ENGINE_CACHE:-$PWD/.cache/engines}"
TARGET="$CACHE/pyspark-$VERSION"
HOME_DIR="$TARGET/pyspark"
MARKER="$TARGET/.sluice-complete"

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
  *) echo "usage: $0 fetch|env|home" >&2; exit 2 ;;
esac
