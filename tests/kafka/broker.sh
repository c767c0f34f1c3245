#!/usr/bin/env bash
# A throw-away Apache Kafka broker (KRaft, combined broker+controller) on
# loopback for the integration tests.
#
#   broker.sh fetch              download the jars into the cache (idempotent)
#   broker.sh start WORKDIR      start one; prints "127.0.0.1:PORT" and writes
#                                WORKDIR/bootstrap (log: WORKDIR/broker.log)
#   broker.sh stop WORKDIR       stop it (TERM, then KILL after a bound)
#
# Jars come from the Maven pom beside this script and are cached outside
# git in ${BYLINE_CACHE_DIR:-$HOME/.cache/byline}/kafka-<version>/.
# Environment: BYLINE_KAFKA_HEAP (default -Xmx384m -Xms128m),
# BYLINE_BROKER_START_TIMEOUT_S (default 60), JAVA (default java on PATH,
# else $JAVA_HOME/bin/java), BYLINE_TOOLS_DIR (for bl_kafkatool, optional).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom="$here/pom.xml"
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache_root=${BYLINE_CACHE_DIR:-$HOME/.cache/byline}
jar_dir="$cache_root/kafka-$kafka_version"
start_timeout_s=${BYLINE_BROKER_START_TIMEOUT_S:-60}
stop_timeout_s=20

die() { echo "broker.sh: $*" >&2; exit 1; }

find_java() {
  if [[ -n "${JAVA:-}" ]]; then echo "$JAVA"; return; fi
  if command -v java >/dev/null 2>&1; then command -v java; return; fi
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then echo "$JAVA_HOME/bin/java"; return; fi
  die "java not found (install a JRE 17+, or set JAVA or JAVA_HOME)"
}

# Download once; ".complete" marks a finished copy so an interrupted
# download is redone rather than used.
fetch() {
  [[ -f "$jar_dir/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: it is needed once to fetch the Kafka jars into $jar_dir"
  local tmp="$jar_dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$cache_root"
  echo "broker.sh: fetching Apache Kafka $kafka_version into $jar_dir" >&2
  if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    die "mvn could not fetch the Kafka jars"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "no kafka_2.13 jar after mvn"; }
  rm -rf "$jar_dir"
  mv "$tmp" "$jar_dir"
  touch "$jar_dir/.complete"
}

port_in_use() {
  ss -Htln 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$1\$" && return 0
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  return 1
}

# A loopback port nobody listens on now (there is a small race until the
# broker binds it; start retries with new ports if the bind fails).
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ "$p" == "${1:-}" ]] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free loopback port found"
}

# A random Kafka Uuid: 16 bytes, base64url without padding, not starting
# with '-' (Kafka's own generator avoids that too).
cluster_id() {
  local id
  while :; do
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "$id" != -* ]] && { echo "$id"; return; }
  done
}

broker_answers() {
  local addr=$1 tool="${BYLINE_TOOLS_DIR:-}/bl_kafkatool"
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$addr" -L -m 3 2>/dev/null | grep -q '1 brokers:'
  elif [[ -x "$tool" ]]; then
    "$tool" metadata -b "$addr" >/dev/null 2>&1
  else
    (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null
  fi
}

write_config() {
  local workdir=$1 port=$2 cport=$3
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@LOG_DIR@|$workdir/data|g" \
    "$here/server.properties.in" >"$workdir/server.properties"
  cat >"$workdir/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.request.logger=WARN
EOF
}

# One attempt at a broker on fresh ports. Returns 0 when it answers,
# 1 when it exited, 2 when a port was taken, 3 when it did not answer in
# time (the caller shows the log tail).
start_once() {
  local workdir=$1 java=$2 port cport pid i
  port=$(free_port)
  cport=$(free_port "$port")
  rm -rf "$workdir/data"
  write_config "$workdir" "$port" "$cport"
  local jvm=(-Djava.awt.headless=true "-Dlog4j.configuration=file:$workdir/log4j.properties"
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
  if ! "$java" "${jvm[@]}" -Xmx256m -cp "$jar_dir/*" kafka.tools.StorageTool format \
      -t "$(cluster_id)" -c "$workdir/server.properties" >"$workdir/format.log" 2>&1; then
    cat "$workdir/format.log" >&2
    return 1
  fi
  # shellcheck disable=SC2086 # the heap setting is a list of flags
  setsid "$java" -Djava.awt.headless=true "-Dlog4j.configuration=file:$workdir/log4j.properties" \
    ${BYLINE_KAFKA_HEAP:--Xmx384m -Xms128m} -XX:+UseSerialGC \
    -cp "$jar_dir/*" kafka.Kafka "$workdir/server.properties" \
    >"$workdir/broker.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$workdir/broker.pid"
  for ((i = 0; i < start_timeout_s * 4; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -q 'Address already in use' "$workdir/broker.log" && return 2
      return 1
    fi
    if broker_answers "127.0.0.1:$port"; then
      echo "127.0.0.1:$port" >"$workdir/bootstrap"
      echo "127.0.0.1:$port"
      return 0
    fi
    sleep 0.25
  done
  return 3
}

start() {
  local workdir=${1:?usage: broker.sh start WORKDIR} java rc attempt
  mkdir -p "$workdir"
  workdir=$(cd "$workdir" && pwd)
  if [[ -f "$workdir/broker.pid" ]] && kill -0 "$(cat "$workdir/broker.pid")" 2>/dev/null; then
    die "a broker already runs for $workdir (pid $(cat "$workdir/broker.pid")); stop it first"
  fi
  java=$(find_java)
  fetch
  rm -f "$workdir/bootstrap"
  for attempt in 1 2 3; do
    rc=0
    start_once "$workdir" "$java" || rc=$?
    [[ $rc == 0 ]] && return 0
    stop "$workdir" >/dev/null 2>&1 || true
    [[ $rc == 2 ]] || break
    echo "broker.sh: port taken, retrying on other ports (attempt $attempt)" >&2
  done
  if [[ $rc == 3 ]]; then
    echo "broker.sh: the broker did not answer within ${start_timeout_s}s; last lines of $workdir/broker.log:" >&2
  else
    echo "broker.sh: the broker exited during start-up; last lines of $workdir/broker.log:" >&2
  fi
  tail -n 40 "$workdir/broker.log" >&2 2>/dev/null || true
  exit 1
}

stop() {
  local workdir=${1:?usage: broker.sh stop WORKDIR} pid i
  [[ -f "$workdir/broker.pid" ]] || { echo "broker.sh: no broker.pid in $workdir" >&2; return 0; }
  pid=$(cat "$workdir/broker.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < stop_timeout_s * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "broker.sh: broker $pid ignored TERM for ${stop_timeout_s}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -f "$workdir/broker.pid"
}

case "${1:-}" in
  fetch) fetch; echo "$jar_dir" ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: broker.sh fetch | start WORKDIR | stop WORKDIR" >&2; exit 2 ;;
esac
