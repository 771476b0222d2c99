#!/usr/bin/env bash
# Start/stop a REAL single-node Apache Kafka broker (KRaft, combined
# broker+controller) for tests and CI, without Docker.
#
#   test/infra/kafka.sh start    # resolve jars (cached), format storage, start, wait until it answers
#   test/infra/kafka.sh stop     # TERM, wait, KILL after KAFKA_STOP_TIMEOUT
#   test/infra/kafka.sh status   # prints running/stopped (exit 0 running, 3 stopped)
#
# Needs Java 17+ and, for the first start only, Maven with access to Maven
# Central. Later starts use the jar cache and work offline.
# See test/infra/README.md for the variables.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J2_CONFIG="$SCRIPT_DIR/kafka/log4j2.xml"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$HOME/.cache/kcflow-kafka}"
KAFKA_RUN_DIR="${KAFKA_RUN_DIR:-$REPO_ROOT/.kafka}"
KAFKA_HOST="127.0.0.1"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_LOG_LEVEL="${KAFKA_LOG_LEVEL:-INFO}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA="java"; fi

PID_FILE="$KAFKA_RUN_DIR/kafka.pid"
PROPS_FILE="$KAFKA_RUN_DIR/server.properties"
OUT_FILE="$KAFKA_RUN_DIR/kafka.out"     # JVM stdout/stderr
SERVER_LOG="$KAFKA_RUN_DIR/server.log"  # log4j2 output
RUN_MARKER="$KAFKA_RUN_DIR/.kcflow-kafka-run"

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers

port_open() { # port_open PORT -> 0 if something accepts TCP connections
  timeout 2 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
}

running_pid() { # prints the pid of OUR broker if it is alive, else returns 1
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be a kafka.Kafka on our config.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    local cmd
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *kafka.Kafka*"$PROPS_FILE"* ]] || return 1
  fi
  echo "$pid"
}

dump_logs() {
  local f
  for f in "$OUT_FILE" "$SERVER_LOG"; do
    [[ -s "$f" ]] || continue
    log "---- last 60 lines of $f ----"
    tail -n 60 "$f" >&2 || true
  done
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set JAVA or JAVA_HOME); Kafka 4 needs Java 17+"
  local v major
  v="$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${v%%.*}"
  [[ "$major" == "1" ]] && major="$(cut -d. -f2 <<<"$v")"
  if [[ "$major" =~ ^[0-9]+$ ]] && (( major < 17 )); then
    die "Kafka $KAFKA_VERSION needs Java 17+, found $v ($JAVA)"
  fi
}

# Cache key: Kafka version + hash of the pom (a pom change re-resolves).
libs_dir() {
  local h
  h="$(sha256sum "$POM" | cut -c1-12)"
  echo "$KAFKA_CACHE_DIR/kafka-$KAFKA_VERSION-$h/libs"
}

ensure_libs() {
  local libs marker
  libs="$(libs_dir)"
  marker="$libs/.complete"
  if [[ -f "$marker" && -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    log "jar cache hit: $libs"
    LIBS="$libs"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found and no complete jar cache at $libs"
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION + runtime deps into $libs (Maven) ..."
  local tmp parent
  parent="$(dirname "$libs")"
  mkdir -p "$parent"
  tmp="$(mktemp -d "$parent/.libs.tmp.XXXXXX")"
  # Maven runs from the pom's folder so it leaves nothing in the caller's cwd.
  local mvn_log="$parent/mvn-$KAFKA_VERSION.log"
  if ! (cd "$SCRIPT_DIR/kafka" && mvn -q -B -Dstyle.color=never -f "$POM" \
          -Dkafka.version="$KAFKA_VERSION" \
          dependency:copy-dependencies \
          -DincludeScope=runtime \
          -DoutputDirectory="$tmp") >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    tail -n 40 "$mvn_log" >&2 || true
    die "Maven could not resolve Kafka $KAFKA_VERSION (is Maven Central reachable? does the version exist?); full log: $mvn_log"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven resolve"; }
  (cd "$tmp" && ls -1 *.jar) >"$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"   # atomic within the same folder: never a half-filled cache
  log "cached $(wc -l <"$libs/.complete") jars in $libs"
  LIBS="$libs"
}

prepare_run_dir() {
  if [[ -e "$KAFKA_RUN_DIR" ]]; then
    # Refuse to wipe a folder we did not create (e.g. a mistyped KAFKA_RUN_DIR).
    if [[ ! -f "$RUN_MARKER" ]] && [[ -n "$(ls -A "$KAFKA_RUN_DIR" 2>/dev/null)" ]]; then
      die "refusing to wipe $KAFKA_RUN_DIR: not empty and not a kafka.sh run folder (no $(basename "$RUN_MARKER"))"
    fi
    rm -rf "$KAFKA_RUN_DIR"
  fi
  mkdir -p "$KAFKA_RUN_DIR/data"
  : >"$RUN_MARKER"
}

write_properties() {
  cat >"$PROPS_FILE" <<EOF
# Generated by test/infra/kafka.sh -- single-node KRaft (broker+controller) for tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$KAFKA_RUN_DIR/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.partitions=1
auto.create.topics.enable=true
EOF
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_PORT"; then
      log "already running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
      exit 0
    fi
    log "pid $pid is alive but $KAFKA_HOST:$KAFKA_PORT does not answer; restarting it"
    cmd_stop
  fi
  if port_open "$KAFKA_PORT"; then
    die "$KAFKA_HOST:$KAFKA_PORT is already in use by another process (not started from $KAFKA_RUN_DIR); set KAFKA_PORT"
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "$KAFKA_HOST:$KAFKA_CONTROLLER_PORT is already in use by another process; set KAFKA_CONTROLLER_PORT"
  fi

  local t0=$SECONDS
  check_java
  ensure_libs
  prepare_run_dir
  write_properties

  local cp="$LIBS/*" cluster_id
  cluster_id="$("$JAVA" -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$OUT_FILE")" \
    || { dump_logs; die "StorageTool random-uuid failed"; }
  if ! "$JAVA" -cp "$cp" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$PROPS_FILE" --standalone >>"$OUT_FILE" 2>&1; then
    dump_logs; die "StorageTool format failed"
  fi

  log "starting Kafka $KAFKA_VERSION (cluster $cluster_id) on $KAFKA_HOST:$KAFKA_PORT, run folder $KAFKA_RUN_DIR"
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word lists
  setsid "$JAVA" $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    ${KAFKA_JVM_OPTS:-} \
    -Dkafka.logs.dir="$KAFKA_RUN_DIR" \
    -Dlog4j2.configurationFile="$LOG4J2_CONFIG" \
    -Dkcflow.kafka.log.level="$KAFKA_LOG_LEVEL" \
    -cp "$cp" kafka.Kafka "$PROPS_FILE" \
    </dev/null >>"$OUT_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      dump_logs
      die "Kafka (pid $pid) exited during startup"
    fi
    if port_open "$KAFKA_PORT"; then break; fi
    if (( SECONDS >= deadline )); then
      dump_logs
      log "timed out after ${KAFKA_START_TIMEOUT}s waiting for $KAFKA_HOST:$KAFKA_PORT; stopping pid $pid"
      cmd_stop || true
      exit 1
    fi
    sleep 0.5
  done
  log "Kafka is up (pid $pid) on $KAFKA_HOST:$KAFKA_PORT after $((SECONDS - t0))s; logs: $SERVER_LOG"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping Kafka (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then
      log "still alive after ${KAFKA_STOP_TIMEOUT}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.3
  done
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_PORT"; then
      echo "running (pid $pid, $KAFKA_HOST:$KAFKA_PORT)"
    else
      echo "running (pid $pid, $KAFKA_HOST:$KAFKA_PORT not answering yet)"
    fi
    return 0
  fi
  echo "stopped"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
