#!/usr/bin/env bash
# A real Apache Flink for the engine-conn-flink tests: a standalone session cluster (one JobManager,
# one TaskManager) and the SQL Gateway, all bound to 127.0.0.1. Idempotent: every command can run
# twice, and concurrent callers serialise on a lock.
#
#   scripts/engines/flink.sh fetch    assemble Flink into the cache (PyPI + Maven Central), once
#   scripts/engines/flink.sh start    fetch if needed, configure, start the three JVMs, wait until ready
#   scripts/engines/flink.sh stop     stop what `start` started
#   scripts/engines/flink.sh status   print running/stopped (exit 0 when running)
#   scripts/engines/flink.sh env      print the exports the tests read (FLINK_GATEWAY_URL, FLINK_REST_URL)
#   scripts/engines/flink.sh diagnose print what a failed run needs: which JVMs live, the cluster's
#                                     TaskManagers, slots and unfinished jobs, the logs' errors
#
# Assembly: the Flink binary tarball is not on Maven Central, and flink-dist is not published there
# either. PyPI's `apache-flink-libraries` wheel ships Flink's whole lib/ (flink-dist, the table planner
# loader and runtime, connectors, log4j) and bin/bash-java-utils.jar; the SQL Gateway jar, which the
# wheel lacks, comes from Maven Central (org.apache.flink:flink-sql-gateway). Nothing else is used:
# the JVMs are started here directly, not through Flink's bin/*.sh scripts.
#
# Settings (environment):
#   FLINK_VERSION          Flink release (default 2.3.0)
#   FLINK_JAVA_HOME        JDK to run it with (default: the oldest JDK >= 17 under /usr/lib/jvm or /opt)
#   FLINK_REST_PORT        JobManager REST port, the Flink REST API (default 18081)
#   FLINK_GATEWAY_PORT     SQL Gateway REST port (default 18083)
#   FLINK_RPC_PORT         JobManager RPC port (default 16123)
#   FLINK_TM_SLOTS         task slots of the TaskManager (default 8)
#   FLINK_TM_MEMORY        TaskManager process size (default 2048m)
#   FLINK_JM_MEMORY        JobManager process size (default 1024m)
#   FLINK_GATEWAY_HEAP     SQL Gateway JVM heap (default 768m)
#   SLUICE_ENGINE_CACHE    where the assembly and the cluster state live (default ./.cache/engines)
#   SLUICE_MAVEN_REPO      Maven local repository (default ~/.m2/repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/engines/lib.sh
. scripts/engines/lib.sh

VERSION="${FLINK_VERSION:-2.3.0}"
REST_PORT="${FLINK_REST_PORT:-18081}"
GATEWAY_PORT="${FLINK_GATEWAY_PORT:-18083}"
RPC_PORT="${FLINK_RPC_PORT:-16123}"
SLOTS="${FLINK_TM_SLOTS:-8}"
TM_MEMORY="${FLINK_TM_MEMORY:-2048m}"
JM_MEMORY="${FLINK_JM_MEMORY:-1024m}"
GATEWAY_HEAP="${FLINK_GATEWAY_HEAP:-768m}"
CACHE="${SLUICE_ENGINE_CACHE:-$PWD/.cache/engines}"
M2="${SLUICE_MAVEN_REPO:-$HOME/.m2/repository}"
HOME_DIR="$CACHE/flink-$VERSION"
STATE="$CACHE/flink-$VERSION-state"
CONF="$STATE/conf"
LOGS="$STATE/log"
RUN="$STATE/run"
COMPONENTS=(jobmanager taskmanager gateway)

log() { echo "flink.sh: $*" >&2; }

java_feature() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

# FLINK_JAVA_HOME, else the oldest JDK >= 17 (Flink 2.x supports 17 and 21; the oldest is the safest).
find_java() {
  if [ -n "${FLINK_JAVA_HOME:-}" ]; then echo "$FLINK_JAVA_HOME"; return; fi
  local best="" best_v=1000 home v
  for home in /usr/lib/jvm/* /opt/*; do
    [ -x "$home/bin/java" ] || continue
    v="$(java_feature "$home")"
    [ -n "$v" ] || continue
    if [ "$v" -ge 17 ] && [ "$v" -lt "$best_v" ]; then best="$home"; best_v="$v"; fi
  done
  if [ -z "$best" ]; then
    log "Flink $VERSION needs Java 17 or newer; none found under /usr/lib/jvm or /opt (set FLINK_JAVA_HOME)"
    exit 1
  fi
  echo "$best"
}

fetch() {
  if [ -f "$HOME_DIR/.complete" ]; then return; fi
  local downloads="$CACHE/downloads"
  mkdir -p "$downloads"
  local wheel="$downloads/apache_flink_libraries-$VERSION-py2.py3-none-any.whl"
  if [ ! -s "$wheel" ]; then
    log "downloading apache-flink-libraries==$VERSION from PyPI (about 330 MB)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$downloads" "apache-flink-libraries==$VERSION" >&2
  fi
  local gateway_jar="$M2/org/apache/flink/flink-sql-gateway/$VERSION/flink-sql-gateway-$VERSION.jar"
  if [ ! -s "$gateway_jar" ]; then
    log "downloading org.apache.flink:flink-sql-gateway:$VERSION from Maven Central"
    mvn -B -q -Dmaven.repo.local="$M2" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:get \
      -Dartifact="org.apache.flink:flink-sql-gateway:$VERSION" -Dtransitive=false >&2
  fi
  log "assembling Flink $VERSION in $HOME_DIR"
  local tmp="$CACHE/.assemble-flink-$VERSION-$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  python3 - "$wheel" "$tmp" <<'EOF'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    members = [n for n in z.namelist() if n.startswith('pyflink/lib/') or n == 'pyflink/bin/bash-java-utils.jar']
    if not any(n.startswith('pyflink/lib/flink-dist-') for n in members):
        sys.exit(f'{wheel} has no pyflink/lib/flink-dist jar')
    z.extractall(out, members)
EOF
  mkdir -p "$tmp/flink/opt" "$tmp/flink/plugins"
  mv "$tmp/pyflink/lib" "$tmp/flink/lib"
  mv "$tmp/pyflink/bin" "$tmp/flink/bin"
  cp "$gateway_jar" "$tmp/flink/opt/"
  touch "$tmp/flink/.complete"
  rm -rf "$HOME_DIR"
  mv "$tmp/flink" "$HOME_DIR"
  rm -rf "$tmp"
}

# lib/ jars in the order Flink's config.sh builds them: every jar but flink-dist, sorted, then flink-dist.
flink_classpath() {
  local cp="" dist="" jar
  for jar in $(ls "$HOME_DIR/lib"/*.jar | sort); do
    case "$(basename "$jar")" in
      flink-dist*) dist="$jar" ;;
      *) cp="$cp:$jar" ;;
    esac
  done
  echo "${cp#:}:$dist"
}

# The --add-exports/--add-opens list Flink's conf/config.yaml passes on Java 17 (env.java.opts.all).
JAVA_MODULE_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

configure() {
  mkdir -p "$CONF" "$LOGS" "$RUN" "$STATE/tmp" "$STATE/web"
  cat >"$CONF/config.yaml" <<EOF
# Written by scripts/engines/flink.sh; rewritten at every start.
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: $JM_MEMORY
jobmanager.execution.failover-strategy: region
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
taskmanager.numberOfTaskSlots: $SLOTS
taskmanager.memory.process.size: $TM_MEMORY
taskmanager.memory.managed.fraction: 0.25
parallelism.default: 1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $REST_PORT
execution.target: remote
io.tmp.dirs: $STATE/tmp
web.tmpdir: $STATE/web
sql-gateway.endpoint.type: rest
sql-gateway.endpoint.rest.address: 127.0.0.1
sql-gateway.endpoint.rest.bind-address: 127.0.0.1
sql-gateway.endpoint.rest.port: $GATEWAY_PORT
EOF
  cat >"$CONF/log4j.properties" <<'EOF'
monitorInterval=0
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=MainAppender
logger.akka.name=akka
logger.akka.level=WARN
logger.pekko.name=org.apache.pekko
logger.pekko.level=WARN
logger.netty.name=org.apache.flink.shaded.netty4.io.netty
logger.netty.level=WARN
appender.main.name=MainAppender
appender.main.type=RollingFile
appender.main.append=true
appender.main.fileName=${sys:log.file}
appender.main.filePattern=${sys:log.file}.%i
appender.main.layout.type=PatternLayout
appender.main.layout.pattern=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.main.policies.type=Policies
appender.main.policies.size.type=SizeBasedTriggeringPolicy
appender.main.policies.size.size=50MB
appender.main.strategy.type=DefaultRolloverStrategy
appender.main.strategy.max=3
EOF
}

# JVM arguments and dynamic properties the way Flink's own scripts compute them (BashJavaUtils).
resource_params() {
  local java="$1" cmd="$2" out
  out="$("$java/bin/java" -classpath "$HOME_DIR/bin/bash-java-utils.jar:$(flink_classpath)" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "$cmd" --configDir "$CONF" 2>&1)" || { log "$cmd failed: $out"; exit 1; }
  echo "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' | tail -n 2
}

pid_of() { [ -s "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
# A process that exists and is not a zombie: a JVM that ended stays a zombie until init reaps it,
# which can take seconds here.
alive() { local pid; pid="$(pid_of "$1")" && [ -n "$pid" ] && pid_alive "$pid"; }
running() { local c; for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done; }

# Starts one JVM in the background, in its own session, recording its pid.
launch() {
  local name="$1" java="$2"; shift 2
  # A JVM that crashes writes its hs_err file beside the logs, where `diagnose` finds it.
  # 9>&-: the JVM must not inherit the lock's descriptor, or it would hold the lock while it runs.
  FLINK_CONF_DIR="$CONF" FLINK_LIB_DIR="$HOME_DIR/lib" FLINK_OPT_DIR="$HOME_DIR/opt" FLINK_PLUGINS_DIR="$HOME_DIR/plugins" \
    FLINK_HOME="$HOME_DIR" setsid "$java" -XX:ErrorFile="$LOGS/hs_err_${name}_%p.log" "$@" </dev/null >"$LOGS/$name.out" 2>&1 9>&- &
  echo $! >"$RUN/$name.pid"
}

start_jobmanager() {
  local java="$1" params jvm dyn
  params="$(resource_params "$java" GET_JM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | sed -n 1p)"; dyn="$(echo "$params" | sed -n 2p)"
  # shellcheck disable=SC2086 # the computed JVM arguments and dynamic properties are word lists
  launch jobmanager "$java/bin/java" $jvm "${JAVA_MODULE_OPTS[@]}" -Dlog.file="$LOGS/jobmanager.log" \
    -Dlog4j.configurationFile="file:$CONF/log4j.properties" -classpath "$(flink_classpath)" \
    org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$CONF" --executionMode cluster $dyn
}

start_taskmanager() {
  local java="$1" params jvm dyn
  params="$(resource_params "$java" GET_TM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | sed -n 1p)"; dyn="$(echo "$params" | sed -n 2p)"
  # shellcheck disable=SC2086
  launch taskmanager "$java/bin/java" $jvm "${JAVA_MODULE_OPTS[@]}" -Dlog.file="$LOGS/taskmanager.log" \
    -Dlog4j.configurationFile="file:$CONF/log4j.properties" -classpath "$(flink_classpath)" \
    org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$CONF" $dyn
}

start_gateway() {
  local java="$1"
  launch gateway "$java/bin/java" -Xms128m -Xmx"$GATEWAY_HEAP" -XX:+UseG1GC "${JAVA_MODULE_OPTS[@]}" \
    -Dlog.file="$LOGS/gateway.log" -Dlog4j.configurationFile="file:$CONF/log4j.properties" \
    -classpath "$(flink_classpath):$HOME_DIR/opt/flink-sql-gateway-$VERSION.jar" \
    org.apache.flink.table.gateway.SqlGateway
}

# The JobManager answers and has a TaskManager with free slots registered.
cluster_ready() {
  curl -sf -m 2 "http://127.0.0.1:$REST_PORT/overview" 2>/dev/null | grep -Eq '"taskmanagers":[1-9]'
}

gateway_ready() {
  curl -sf -m 2 "http://127.0.0.1:$GATEWAY_PORT/api_versions" 2>/dev/null | grep -q '"versions"'
}

stop_component() {
  local name="$1" pid
  pid="$(pid_of "$name")" || return 0
  if [ -n "$pid" ] && pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then
      log "$name did not stop within 20 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN/$name.pid"
}

# The error lines of a Flink log, each kind once (timestamps stripped; repeats counted, last time
# kept), with the exception and causes under a FATAL line, which say why a JVM gave up.
log_errors() {
  python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
pattern = re.compile(r" (ERROR|FATAL) |OutOfMemory|Terminating|timed out|lost")
stamp = re.compile(r"^(\d{4}-\d\d-\d\d )?(\d\d:\d\d:\d\d[,.]\d+)\s+")
# Job, operation and subtask ids differ between repeats of one message.
ids = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|_\d+_\d+\b")
seen = {}  # message with ids masked -> [count, last time, detail lines, last message]
for i, line in enumerate(lines):
    m = stamp.match(line)
    if not m or not pattern.search(line):
        continue
    message = line[m.end():]
    when = m.group(2)
    key = ids.sub("<id>", message)
    detail = []
    if "FATAL" in line or "Exception in" in line:
        for follow in lines[i + 1 : i + 40]:
            if stamp.match(follow):
                break
            if follow.startswith("Caused by") or re.match(r"^[\w.$]+(Exception|Error)\b", follow):
                detail.append("    " + follow[:300])
    entry = seen.pop(key, [0, when, detail, message])
    entry[0] += 1
    entry[1] = when
    entry[2] = entry[2] or detail
    entry[3] = message
    seen[key] = entry
for count, when, detail, message in list(seen.values())[-25:]:
    print(f"{when} {'(x%d) ' % count if count > 1 else ''}{message[:400]}")
    for d in detail[:8]:
        print(d)
PY
}

# What a failed test run needs to tell a broken cluster from a broken client. Never fails.
diagnose() {
  local c pid
  echo "== Flink $VERSION ($STATE)"
  for c in "${COMPONENTS[@]}"; do
    pid="$(pid_of "$c" || true)"
    if alive "$c"; then echo "$c: running (pid $pid)"; else echo "$c: NOT running (last pid ${pid:-none})"; fi
  done
  echo "-- GET /overview"; curl -s -m 5 "http://127.0.0.1:$REST_PORT/overview" || echo "(no answer)"; echo
  echo "-- GET /taskmanagers"; curl -s -m 5 "http://127.0.0.1:$REST_PORT/taskmanagers" || echo "(no answer)"; echo
  echo "-- jobs not finished, failed or cancelled"
  curl -s -m 5 "http://127.0.0.1:$REST_PORT/jobs/overview" 2>/dev/null | python3 -c '
import json, sys
try:
    jobs = json.load(sys.stdin)["jobs"]
except Exception as e:
    sys.exit(f"(no job list: {e})")
done = ("FINISHED", "FAILED", "CANCELED")
print(f"{len(jobs)} jobs in all")
for j in jobs:
    if j["state"] not in done:
        print(j["jid"], j["state"], j["name"][:100])
' || true
  local log
  for log in "" .prev; do
    for c in "${COMPONENTS[@]}"; do
      [ -e "$LOGS/$c.log$log" ] || continue
      echo "-- $c: errors in $LOGS/$c.log$log (the last 25 kinds; repeats counted)"
      log_errors "$LOGS/$c.log$log" || true
      echo "-- $c: last lines of $c.out$log"
      tail -n 15 "$LOGS/$c.out$log" 2>/dev/null || true
    done
  done
  local f; for f in "$LOGS"/hs_err_*.log; do [ -e "$f" ] && { echo "-- $f"; head -n 40 "$f"; }; done
  return 0
}

print_logs() {
  local c; for c in "${COMPONENTS[@]}"; do
    log "last lines of $LOGS/$c.log and $c.out:"
    tail -n 30 "$LOGS/$c.log" >&2 2>/dev/null || true
    tail -n 10 "$LOGS/$c.out" >&2 2>/dev/null || true
  done
}

start() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/flink.lock"
  flock 9
  if running && cluster_ready && gateway_ready; then return; fi
  fetch
  local java; java="$(find_java)"
  # A partial cluster (one JVM died, or a previous start failed) is restarted whole.
  local c; for c in "${COMPONENTS[@]}"; do alive "$c" || { stop_all; break; }; done
  if ! running; then
    configure
    # Logs describe the cluster that runs: the previous cluster's are kept once, as *.prev, so that
    # a cluster restarted after a crash still shows what the crash left.
    local f; for f in "$LOGS"/*.log "$LOGS"/*.out; do [ -e "$f" ] && mv -f "$f" "$f.prev"; done
    rm -f "$LOGS"/*.log.[0-9]*
    log "starting Flink $VERSION with $("$java/bin/java" -version 2>&1 | head -1): REST 127.0.0.1:$REST_PORT, SQL Gateway 127.0.0.1:$GATEWAY_PORT"
    start_jobmanager "$java"
    start_taskmanager "$java"
    start_gateway "$java"
  fi
  local deadline=$((SECONDS + ${FLINK_START_TIMEOUT:-240}))
  until cluster_ready && gateway_ready; do
    for c in "${COMPONENTS[@]}"; do
      if ! alive "$c"; then
        log "the $c exited during start-up"
        print_logs
        stop_all
        exit 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then log "Flink did not become ready in time"; print_logs; exit 1; fi
    sleep 1
  done
  log "Flink $VERSION is ready: SQL Gateway http://127.0.0.1:$GATEWAY_PORT, REST http://127.0.0.1:$REST_PORT"
}

stop_all() {
  # The gateway first (it closes its sessions and their jobs' result fetchers), the JobManager last.
  stop_component gateway
  stop_component taskmanager
  stop_component jobmanager
}

stop() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/flink.lock"
  flock 9
  stop_all
}

print_env() {
  echo "export FLINK_GATEWAY_URL=http://127.0.0.1:$GATEWAY_PORT"
  echo "export FLINK_REST_URL=http://127.0.0.1:$REST_PORT"
}

case "${1:-start}" in
  fetch) mkdir -p "$CACHE"; exec 9>"$CACHE/flink.lock"; flock 9; fetch ;;
  start) start; print_env ;;
  stop) stop ;;
  status) if running && cluster_ready && gateway_ready; then echo running; else echo stopped; exit 1; fi ;;
  env) print_env ;;
  diagnose) diagnose ;;
  *) echo "usage: $0 fetch|start|stop|status|env|diagnose" >&2; exit 2 ;;
esac
