#!/usr/bin/env bash
# Real single-node Apache Kafka (KRaft) and Elasticsearch 8 for integration tests, without Docker.
#
#   scripts/services.sh start   [kafka|es|all] [--keep-data]
#   scripts/services.sh stop    [kafka|es|all]
#   scripts/services.sh restart [kafka|es|all]      # stop + start, keeping the data dirs
#   scripts/services.sh status  [kafka|es|all]      # exit 0 when all named services run, 3 otherwise
#   scripts/services.sh logs    [kafka|es|all] [-f]
#   scripts/services.sh env     [kafka|es|all]      # `export KAFKA_BROKERS=…` lines for running services
#
# SERVICES_SECURITY=1 starts secured services instead (for testing client TLS and auth): Kafka gets
# a SASL_SSL listener on KAFKA_SECURE_PORT (PLAIN, SCRAM-SHA-256/512) and Elasticsearch runs with
# security on (HTTPS, basic auth, a least-privilege user), both with certificates of a throw-away CA.
#
# Binaries come from Maven Central through tools/kafka/pom.xml and tools/es/pom.xml (cached in ~/.m2
# and unpacked once under .svc/dist/). State (pid files, data, logs) lives under .svc/ (git-ignored).
# `start` wipes the data dir unless --keep-data is given. Connection strings go to stdout as
# KEY=value lines; progress and errors go to stderr. See scripts/services/README.md.
set -Eeuo pipefail
trap 'printf "[services] ERROR: unexpected failure (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SVC_DIR=${SVC_DIR:-$ROOT/.svc}
HOST=127.0.0.1
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
ES_PORT=${ES_PORT:-9200}
ES_TRANSPORT_PORT=${ES_TRANSPORT_PORT:-9300}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
ES_HEAP=${ES_HEAP:-512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-240}
SERVICES_STOP_TIMEOUT=${SERVICES_STOP_TIMEOUT:-30}
ES_RUN_AS=${ES_RUN_AS:-es}
SERVICES_SECURITY=${SERVICES_SECURITY:-0}
KAFKA_SECURE_PORT=${KAFKA_SECURE_PORT:-9094}
SERVICES_USER=${SERVICES_USER:-enricher}
SERVICES_PASSWORD=${SERVICES_PASSWORD:-enricher-secret}
MVN=${MVN:-mvn}
# Extra Maven arguments, word-split (e.g. "-o" for offline, "-s settings.xml").
SERVICES_MVN_ARGS=${SERVICES_MVN_ARGS:-}
LOG_TAIL_LINES=40

KAFKA_DIR=$SVC_DIR/kafka
ES_LINK=$SVC_DIR/es # the ES state dir, or a symlink to it (see resolve_es_paths)
CERT_DIR=$SVC_DIR/certs # test CA and server certificate (SERVICES_SECURITY=1, see ensure_certs)

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { local s=$1 e; e=$(now_ms); printf '%d.%01ds' $(((e - s) / 1000)) $(((e - s) % 1000 / 100)); }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------------
# Helpers

# Print the last lines of each given file that exists, under a header (for start failures).
tail_logs() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '----- last %d lines of %s -----\n' "$LOG_TAIL_LINES" "$f" >&2
    tail -n "$LOG_TAIL_LINES" "$f" | sed $'s/\e\\[[0-9;]*m//g' >&2
  done
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n 1
}

# Refuse to start when a port we need is already bound by something else.
require_free_ports() {
  local svc=$1 var port owner
  shift
  for var in "$@"; do
    port=${!var}
    [[ $port =~ ^[0-9]+$ ]] || die "$svc: $var='$port' is not a port number"
    if port_in_use "$port"; then
      owner=$(port_owner "$port")
      die "$svc: port $port ($var) is already in use${owner:+ by $owner}. Stop that process or choose another port, e.g. $var=$((port + 1000)) scripts/services.sh start $svc"
    fi
  done
}

# pid_of <pidfile> <marker>: prints the pid when the process is alive and its command line contains
# <marker> (guards against a stale pid file pointing at a recycled pid).
pid_of() {
  local pidfile=$1 marker=$2 pid
  [[ -f $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  printf '%s\n' "$pid"
}

# A zombie (exited, not yet reaped by its parent or init) counts as gone.
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]]
}

# stop_pid <name> <pid>: SIGTERM, poll until gone, SIGKILL after SERVICES_STOP_TIMEOUT seconds.
stop_pid() {
  local name=$1 pid=$2 start deadline
  start=$(now_ms)
  deadline=$((start + SERVICES_STOP_TIMEOUT * 1000))
  log "$name: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || return 0
  while pid_alive "$pid"; do
    if (($(now_ms) > deadline)); then
      log "$name: still alive after ${SERVICES_STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(($(now_ms) + 10000))
      while pid_alive "$pid"; do
        (($(now_ms) > deadline)) && die "$name: pid $pid survived SIGKILL"
        sleep 0.1
      done
      break
    fi
    sleep 0.1
  done
  log "$name: stopped in $(elapsed "$start")"
}

# ensure_certs: a throw-away CA and a server certificate for 127.0.0.1/localhost under
# $CERT_DIR (ca.crt, server.crt, server.key as unencrypted PKCS#8), valid 30 days; made
# again when missing or expiring within a day (every start copies them to the services).
ensure_certs() {
  command -v openssl >/dev/null 2>&1 || die "SERVICES_SECURITY=1 needs openssl to make test certificates"
  if [[ -s $CERT_DIR/server.crt ]] && openssl x509 -checkend 86400 -noout -in "$CERT_DIR/server.crt" >/dev/null 2>&1; then
    return 0
  fi
  local tmp=$CERT_DIR.tmp
  rm -rf "$tmp" "$CERT_DIR"
  mkdir -p "$tmp"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=news-enricher test CA' \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
      -keyout "$tmp/ca.key" -out "$tmp/ca.crt" &&
      openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout "$tmp/server.key" -out "$tmp/server.csr" &&
      printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
        'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >"$tmp/server.ext" &&
      openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
        -days 30 -extfile "$tmp/server.ext" -out "$tmp/server.crt"
  } >"$tmp/openssl.log" 2>&1 || { tail_logs "$tmp/openssl.log"; die "could not make test certificates"; }
  chmod -R a+rX "$tmp"
  chmod 0600 "$tmp"/*.key
  mv "$tmp" "$CERT_DIR"
  log "certs: test CA and server certificate in $CERT_DIR"
}

resolve_java() {
  if [[ -z ${SERVICES_JAVA_HOME:-} ]]; then
    if [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
      SERVICES_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
    elif [[ -n ${JAVA_HOME:-} ]]; then
      SERVICES_JAVA_HOME=$JAVA_HOME
    elif command -v java >/dev/null 2>&1; then
      SERVICES_JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    else
      die "no Java found: install OpenJDK 17 or set SERVICES_JAVA_HOME"
    fi
  fi
  JAVA=$SERVICES_JAVA_HOME/bin/java
  [[ -x $JAVA ]] || die "SERVICES_JAVA_HOME=$SERVICES_JAVA_HOME has no bin/java"
  local major
  major=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [[ $major =~ ^[0-9]+$ && $major -ge 17 ]] || die "$JAVA is Java '$major'; Kafka 4 and Elasticsearch 8 need 17+ (17 or 21 recommended)"
}

# pom_prop <pom> <property>
pom_prop() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -n 1; }

run_mvn() {
  local what=$1 mvnlog=$SVC_DIR/logs/mvn-$1.log
  shift
  command -v "$MVN" >/dev/null 2>&1 || die "$what: Maven ('$MVN') not found; install Maven 3.8+ or set MVN"
  mkdir -p "$SVC_DIR/logs"
  # shellcheck disable=SC2086 # SERVICES_MVN_ARGS is a word list on purpose
  if ! "$MVN" -B -q -Dstyle.color=never $SERVICES_MVN_ARGS "$@" >"$mvnlog" 2>&1; then
    tail_logs "$mvnlog"
    die "$what: Maven could not resolve the artifacts (log: $mvnlog)"
  fi
}

# Sets KAFKA_DIST (unpacked jars) and downloads it once per pom content.
ensure_kafka_dist() {
  local pom=$ROOT/tools/kafka/pom.xml v sum start
  v=$(pom_prop "$pom" kafka.version)
  [[ -n $v ]] || die "kafka: no <kafka.version> in $pom"
  KAFKA_DIST=$SVC_DIR/dist/kafka-$v
  sum=$(sha256sum "$pom" | cut -c1-64)
  [[ -f $KAFKA_DIST/.complete && $(<"$KAFKA_DIST/.complete") == "$sum" ]] && return 0
  start=$(now_ms)
  log "kafka: resolving org.apache.kafka:kafka_2.13:$v with Maven (cached in the local repository)"
  rm -rf "$KAFKA_DIST" "$KAFKA_DIST.tmp"
  run_mvn kafka -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_DIST.tmp/libs"
  printf '%s\n' "$sum" >"$KAFKA_DIST.tmp/.complete"
  mv "$KAFKA_DIST.tmp" "$KAFKA_DIST"
  log "kafka: $(find "$KAFKA_DIST/libs" -name '*.jar' | wc -l) jars ready in $(elapsed "$start")"
}

# Sets ES_DIST (unpacked distribution); downloads and unpacks it once per pom content.
ensure_es_dist() {
  local pom=$ROOT/tools/es/pom.xml v sum start tmp
  v=$(pom_prop "$pom" es.version)
  [[ -n $v ]] || die "es: no <es.version> in $pom"
  ES_DIST=$ES_BASE/dist/elasticsearch-$v
  sum=$(sha256sum "$pom" | cut -c1-64)
  [[ -f $ES_DIST/.complete && $(<"$ES_DIST/.complete") == "$sum" ]] && return 0
  start=$(now_ms)
  log "es: resolving org.elasticsearch.distribution.integ-test-zip:elasticsearch:$v:zip with Maven"
  tmp=$ES_DIST.tmp
  rm -rf "$ES_DIST" "$tmp"
  mkdir -p "$tmp"
  run_mvn es -f "$pom" dependency:copy-dependencies -DincludeTypes=zip -DoutputDirectory="$tmp/zip"
  unzip -q "$tmp/zip/elasticsearch-$v.zip" -d "$tmp/unpacked" || die "es: could not unpack elasticsearch-$v.zip"
  mv "$tmp/unpacked/elasticsearch-$v" "$ES_DIST"
  rm -rf "$tmp"
  chmod -R a+rX "$ES_DIST"
  chmod a+x "$ES_DIST"/bin/*
  printf '%s\n' "$sum" >"$ES_DIST/.complete"
  log "es: distribution ready in $(elapsed "$start") (modules: $(cd "$ES_DIST/modules" && printf '%s ' *))"
}

# ---------------------------------------------------------------------------------------------------
# Kafka

kafka_pid() { pid_of "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/server.properties"; }
kafka_brokers() { printf '%s:%s' "$HOST" "$KAFKA_PORT"; }

write_kafka_properties() {
  local listeners="PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
  local advertised="PLAINTEXT://$HOST:$KAFKA_PORT"
  if [[ $SERVICES_SECURITY == 1 ]]; then
    listeners+=",SASL_SSL://$HOST:$KAFKA_SECURE_PORT"
    advertised+=",SASL_SSL://$HOST:$KAFKA_SECURE_PORT"
  fi
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by scripts/services.sh: single combined broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$KAFKA_DIR/data
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Internal topics on one node: replication 1, few partitions (fast coordinator loading).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.cleaner.threads=1
EOF
  [[ $SERVICES_SECURITY == 1 ]] || return 0
  # SASL_SSL for clients: TLS with the test CA's server certificate (PEM files), PLAIN users from
  # the JAAS line, SCRAM credentials written into the metadata log at format time (--add-scram).
  cat >>"$KAFKA_DIR/server.properties" <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$KAFKA_DIR/server-keystore.pem
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SERVICES_USER="$SERVICES_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  # A PEM keystore file holds the private key (PKCS#8) followed by the certificate chain.
  cat "$CERT_DIR/server.key" "$CERT_DIR/server.crt" >"$KAFKA_DIR/server-keystore.pem"
  chmod 0600 "$KAFKA_DIR/server-keystore.pem"
}

# The connection strings of a running Kafka, as KEY=value lines.
kafka_endpoints() {
  echo "KAFKA_BROKERS=$(kafka_brokers)"
  [[ $SERVICES_SECURITY == 1 ]] || return 0
  echo "KAFKA_SECURE_BROKERS=$HOST:$KAFKA_SECURE_PORT"
  echo "KAFKA_SSL_CA_FILE=$CERT_DIR/ca.crt"
  echo "KAFKA_SASL_USERNAME=$SERVICES_USER"
  echo "KAFKA_SASL_PASSWORD=$SERVICES_PASSWORD"
}

# ApiVersions v0 request on the client listener; succeeds when the broker answers with error code 0.
kafka_api_versions_ok() {
  local reply bytes
  # shellcheck disable=SC2016 # expanded by the inner shell
  reply=$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    # size=14 | api_key=18 (ApiVersions) | version=0 | correlation_id=42 | client_id="prbe"
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x04prbe" >&3
    head -c 10 <&3 | od -An -tx1' _ "$HOST" "$KAFKA_PORT" 2>/dev/null) || return 1
  # size (4 bytes, any) | correlation_id = 42 | error_code = 0
  read -r -a bytes <<<"${reply//$'\n'/ }"
  [[ "${bytes[*]:4:6}" == "00 00 00 2a 00 00" ]]
}

start_kafka() {
  local pid start launched deadline props=$KAFKA_DIR/server.properties out=$KAFKA_DIR/logs/server.log
  if pid=$(kafka_pid); then
    log "kafka: already running (pid $pid)"
    kafka_endpoints
    return 0
  fi
  local ports=(KAFKA_PORT KAFKA_CONTROLLER_PORT)
  if [[ $SERVICES_SECURITY == 1 ]]; then ports+=(KAFKA_SECURE_PORT); fi
  require_free_ports kafka "${ports[@]}"
  resolve_java
  ensure_kafka_dist
  if [[ $SERVICES_SECURITY == 1 ]]; then ensure_certs; fi
  start=$(now_ms)
  if [[ $KEEP_DATA == 1 && -f $KAFKA_DIR/data/meta.properties ]]; then
    log "kafka: keeping data in $KAFKA_DIR/data"
  else
    rm -rf "$KAFKA_DIR/data"
  fi
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  write_kafka_properties
  local cp="$KAFKA_DIST/libs/*"
  local logopts=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info
    -Dorg.slf4j.simpleLogger.showDateTime=true
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS")
  if [[ ! -f $KAFKA_DIR/data/meta.properties ]]; then
    local cluster_id=-
    # Any 16 random bytes, base64url without padding (22 chars), is a valid cluster id. One
    # starting with '-' (1 draw in 64) would be read as an option by kafka-storage: draw again.
    while [[ $cluster_id == -* ]]; do
      cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    done
    local scram=()
    if [[ $SERVICES_SECURITY == 1 ]]; then
      scram=(--add-scram "SCRAM-SHA-256=[name=$SERVICES_USER,password=$SERVICES_PASSWORD]"
        --add-scram "SCRAM-SHA-512=[name=$SERVICES_USER,password=$SERVICES_PASSWORD]")
    fi
    if ! "$JAVA" -cp "$cp" "${logopts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" "${scram[@]}" \
      >"$KAFKA_DIR/logs/format.log" 2>&1; then
      tail_logs "$KAFKA_DIR/logs/format.log"
      die "kafka: formatting the KRaft storage failed"
    fi
  fi
  [[ -f $out ]] && mv "$out" "$out.1"
  log "kafka: starting on $(kafka_brokers) (controller $HOST:$KAFKA_CONTROLLER_PORT, heap $KAFKA_HEAP)"
  # The JVM writes its own pid (exec keeps it); setsid detaches it from our process group, and
  # fd 9 (our lock) is closed so the broker does not hold it.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_DIR/kafka.pid" \
    "$JAVA" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "${logopts[@]}" -cp "$cp" kafka.Kafka "$props" </dev/null >"$out" 2>&1 9>&- &
  launched=$(now_ms)
  deadline=$((start + KAFKA_START_TIMEOUT * 1000))
  while :; do
    if ! pid=$(kafka_pid); then
      # The pid file may not be written yet right after the fork; give it a moment.
      if (($(now_ms) - launched > 3000)); then
        tail_logs "$out"
        die "kafka: process exited during startup (log: $out)"
      fi
    elif grep -q 'Kafka Server started' "$out" && kafka_api_versions_ok; then
      break
    fi
    if (($(now_ms) > deadline)); then
      tail_logs "$out"
      if [[ -n ${pid:-} ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
      die "kafka: not ready after ${KAFKA_START_TIMEOUT}s (log: $out)"
    fi
    sleep 0.3
  done
  log "kafka: ready in $(elapsed "$start") (pid $pid, log $out)"
  kafka_endpoints
}

stop_kafka() {
  local pid
  if pid=$(kafka_pid); then
    stop_pid kafka "$pid"
  else
    log "kafka: not running"
  fi
  rm -f "$KAFKA_DIR/kafka.pid"
}

# ---------------------------------------------------------------------------------------------------
# Elasticsearch

es_url() {
  if [[ $SERVICES_SECURITY == 1 ]]; then printf 'https://%s:%s' "$HOST" "$ES_PORT"; else printf 'http://%s:%s' "$HOST" "$ES_PORT"; fi
}

# The connection strings of a running Elasticsearch, as KEY=value lines (user `elastic` when secured).
es_endpoints() {
  echo "ELASTICSEARCH_URL=$(es_url)"
  [[ $SERVICES_SECURITY == 1 ]] || return 0
  echo "ELASTICSEARCH_CA_FILE=$CERT_DIR/ca.crt"
  echo "ELASTICSEARCH_USERNAME=elastic"
  echo "ELASTICSEARCH_PASSWORD=$SERVICES_PASSWORD"
  echo "ELASTICSEARCH_SERVICE_USERNAME=$SERVICES_USER"
}

# Elasticsearch refuses to run as root. As root we run it as $ES_RUN_AS, which must be able to reach
# the repository; when it cannot (e.g. a checkout under /root, mode 0700), the ES dist and state go
# under /var/tmp and .svc/es becomes a symlink to them. Sets ES_BASE, ES_DIR and ES_AS (command prefix).
resolve_es_paths() {
  ES_AS=()
  ES_BASE=$SVC_DIR
  if [[ -L $ES_LINK ]]; then
    ES_BASE=$(dirname "$(readlink -f "$ES_LINK")")
  fi
  ES_DIR=$ES_BASE/es
  [[ $(id -u) == 0 ]] || return 0
  ES_AS=(runuser -u "$ES_RUN_AS" --)
}

ensure_es_user() {
  [[ $(id -u) == 0 ]] || return 0
  if ! id -u "$ES_RUN_AS" >/dev/null 2>&1; then
    log "es: creating system user '$ES_RUN_AS' (Elasticsearch refuses to run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      "$ES_RUN_AS" || die "es: could not create user '$ES_RUN_AS'"
  fi
  [[ -L $ES_LINK ]] && return 0
  mkdir -p "$SVC_DIR"
  if ! runuser -u "$ES_RUN_AS" -- test -x "$SVC_DIR"; then
    ES_BASE=/var/tmp/news-entity-enricher-svc-$(printf '%s' "$SVC_DIR" | sha256sum | cut -c1-12)
    ES_DIR=$ES_BASE/es
    log "es: user '$ES_RUN_AS' cannot reach $SVC_DIR; using $ES_BASE (linked from $ES_LINK)"
    mkdir -p "$ES_DIR"
    chmod 0755 "$ES_BASE"
    rm -rf "$ES_LINK"
    ln -s "$ES_DIR" "$ES_LINK"
  fi
}

es_pid() { pid_of "$ES_DIR/es.pid" "-Djava.io.tmpdir=$ES_DIR/tmp"; }

es_health_ok() {
  local auth=()
  if [[ $SERVICES_SECURITY == 1 ]]; then auth=(--cacert "$CERT_DIR/ca.crt" -u "elastic:$SERVICES_PASSWORD"); fi
  curl -fsS --max-time 5 -o /dev/null "${auth[@]}" "$(es_url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

write_es_config() {
  local conf=$ES_DIR/config
  rm -rf "$conf"
  cp -R "$ES_DIST/config" "$conf"
  cat >>"$conf/elasticsearch.yml" <<EOF

# ---- Added by scripts/services.sh (single-node test instance) ----
cluster.name: news-enricher-it
node.name: it-node-1
discovery.type: single-node
network.host: $HOST
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $ES_DIR/data
path.logs: $ES_DIR/logs
action.destructive_requires_name: false
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  if [[ $SERVICES_SECURITY == 1 ]]; then
    write_es_security "$conf"
  elif [[ -d $ES_DIST/modules/x-pack-security ]]; then
    # Unknown settings abort startup, so only disable security when the module ships.
    echo 'xpack.security.enabled: false' >>"$conf/elasticsearch.yml"
  fi
  printf -- '-Xms%s\n-Xmx%s\n' "$ES_HEAP" "$ES_HEAP" >"$conf/jvm.options.d/heap.options"
}

# Security on: HTTPS with the test CA's server certificate, the built-in user `elastic` with
# $SERVICES_PASSWORD (the keystore's bootstrap.password), and a file-realm user $SERVICES_USER
# with the service's least privileges. (API keys and native users need the .security index,
# whose mapping uses the analysis-common module that the integ-test distribution lacks.)
# Transport TLS stays off: a single node bound to loopback is in development mode.
write_es_security() {
  local conf=$1
  [[ -d $ES_DIST/modules/x-pack-security ]] || die "es: SERVICES_SECURITY=1 needs modules/x-pack-security in $ES_DIST"
  mkdir -p "$conf/certs"
  cp "$CERT_DIR/ca.crt" "$CERT_DIR/server.crt" "$CERT_DIR/server.key" "$conf/certs/"
  cat >>"$conf/elasticsearch.yml" <<EOF
xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.certificate: certs/server.crt
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]
EOF
  # The service's least privileges (deploy/README.md, Security) as a file-realm role and user:
  # templates and indices named news-articles* or it-* (the tests' unique names).
  cat >>"$conf/roles.yml" <<EOF

news_enricher:
  cluster: [manage_index_templates]
  indices:
    - names: ['news-articles*', 'it-*']
      privileges: [create_index, index, view_index_metadata]
EOF
  rm -f "$conf/elasticsearch.keystore"
  if ! { es_cli keystore create &&
    printf '%s' "$SERVICES_PASSWORD" | es_cli keystore add -x bootstrap.password &&
    es_cli users useradd "$SERVICES_USER" -p "$SERVICES_PASSWORD" -r news_enricher; } >"$ES_DIR/logs/security-setup.log" 2>&1; then
    tail_logs "$ES_DIR/logs/security-setup.log"
    die "es: could not write the keystore (bootstrap.password) or the file-realm user"
  fi
}

# es_cli <tool> <args…>: runs bin/elasticsearch-<tool> on the instance's config.
es_cli() {
  local tool=$1
  shift
  env -u JAVA_HOME ES_JAVA_HOME="$SERVICES_JAVA_HOME" ES_PATH_CONF="$ES_DIR/config" ES_JAVA_OPTS= "$ES_DIST/bin/elasticsearch-$tool" "$@"
}

start_es() {
  local pid start deadline launcher
  resolve_es_paths
  if pid=$(es_pid); then
    log "es: already running (pid $pid)"
    es_endpoints
    return 0
  fi
  require_free_ports es ES_PORT ES_TRANSPORT_PORT
  command -v curl >/dev/null 2>&1 || die "es: curl is required"
  command -v unzip >/dev/null 2>&1 || die "es: unzip is required"
  resolve_java
  ensure_es_user
  launcher=$ES_DIR/logs/launcher.log
  ensure_es_dist
  if [[ $SERVICES_SECURITY == 1 ]]; then ensure_certs; fi
  start=$(now_ms)
  if [[ $KEEP_DATA == 1 && -d $ES_DIR/data ]]; then
    log "es: keeping data in $ES_DIR/data"
  else
    rm -rf "$ES_DIR/data"
  fi
  mkdir -p "$ES_DIR/data" "$ES_DIR/logs" "$ES_DIR/tmp"
  rm -f "$ES_DIR/es.pid" "$launcher"
  local f
  for f in "$ES_DIR"/logs/*.log; do
    if [[ -f $f ]]; then mv "$f" "$f.1"; fi
  done
  write_es_config
  if [[ $(id -u) == 0 ]]; then
    chown -R "$ES_RUN_AS:" "$ES_DIR"
    runuser -u "$ES_RUN_AS" -- test -r "$ES_DIST/bin/elasticsearch" ||
      die "es: user '$ES_RUN_AS' cannot read $ES_DIST"
  fi
  log "es: starting on $(es_url) (transport $ES_TRANSPORT_PORT, heap $ES_HEAP, java $SERVICES_JAVA_HOME)"
  # -d returns once the node has started (or failed); the server JVM writes es.pid.
  if ! (cd "$ES_DIR" && timeout "$ES_START_TIMEOUT" setsid "${ES_AS[@]}" env -u JAVA_HOME \
    ES_JAVA_HOME="$SERVICES_JAVA_HOME" ES_PATH_CONF="$ES_DIR/config" ES_TMPDIR="$ES_DIR/tmp" ES_JAVA_OPTS= \
    "$ES_DIST/bin/elasticsearch" -d -p "$ES_DIR/es.pid" </dev/null >"$launcher" 2>&1 9>&-); then
    tail_logs "$launcher" "$ES_DIR/logs/news-enricher-it.log"
    if pid=$(es_pid); then kill -KILL "$pid" 2>/dev/null || true; fi
    die "es: failed to start (logs: $ES_DIR/logs)"
  fi
  deadline=$((start + ES_START_TIMEOUT * 1000))
  until es_health_ok; do
    if ! es_pid >/dev/null || (($(now_ms) > deadline)); then
      tail_logs "$launcher" "$ES_DIR/logs/news-enricher-it.log"
      if pid=$(es_pid); then kill -KILL "$pid" 2>/dev/null || true; fi
      die "es: not healthy (yellow) within ${ES_START_TIMEOUT}s (logs: $ES_DIR/logs)"
    fi
    sleep 0.5
  done
  pid=$(es_pid) || die "es: process vanished right after becoming healthy"
  log "es: ready in $(elapsed "$start") (pid $pid, logs $ES_DIR/logs)"
  es_endpoints
}

stop_es() {
  local pid
  resolve_es_paths
  if pid=$(es_pid); then
    stop_pid es "$pid"
  else
    log "es: not running"
  fi
  rm -f "$ES_DIR/es.pid"
}

# ---------------------------------------------------------------------------------------------------
# Verbs

status_one() {
  local svc=$1 pid
  case $svc in
  kafka)
    if pid=$(kafka_pid); then
      echo "kafka: running (pid $pid) KAFKA_BROKERS=$(kafka_brokers)"
    else
      echo "kafka: stopped"
      return 3
    fi
    ;;
  es)
    resolve_es_paths
    if pid=$(es_pid); then
      echo "es: running (pid $pid) ELASTICSEARCH_URL=$(es_url)"
    else
      echo "es: stopped"
      return 3
    fi
    ;;
  esac
}

logs_one() {
  local svc=$1 follow=$2 files=()
  case $svc in
  kafka) files=("$KAFKA_DIR/logs/server.log") ;;
  es)
    resolve_es_paths
    files=("$ES_DIR/logs/news-enricher-it.log")
    ;;
  esac
  [[ -f ${files[0]} ]] || { log "$svc: no log yet (${files[0]})"; return 0; }
  if [[ $follow == 1 ]]; then
    tail -n "${LINES:-100}" -F "${files[@]}"
  else
    tail -n "${LINES:-100}" "${files[@]}"
  fi
}

main() {
  local verb=${1:-} target=all follow=0 arg rc=0
  KEEP_DATA=0
  [[ -n $verb ]] || usage
  shift
  for arg in "$@"; do
    case $arg in
    kafka | es | all) target=$arg ;;
    --keep-data) KEEP_DATA=1 ;;
    -f | --follow) follow=1 ;;
    -h | --help) usage ;;
    *) die "unknown argument '$arg' (see scripts/services.sh --help)" ;;
    esac
  done
  local svcs=(kafka es)
  [[ $target == all ]] || svcs=("$target")

  case $verb in
  start | stop | restart)
    # Serialise concurrent invocations (e.g. two test runs starting at once).
    mkdir -p "$SVC_DIR"
    exec 9>"$SVC_DIR/.lock"
    flock -w 600 9 || die "another scripts/services.sh holds $SVC_DIR/.lock"
    ;;
  esac

  local svc
  case $verb in
  start) for svc in "${svcs[@]}"; do "start_$svc"; done ;;
  stop)
    # Stop in reverse order; keep going when one fails so nothing is left behind.
    for ((i = ${#svcs[@]} - 1; i >= 0; i--)); do "stop_${svcs[i]}" || rc=1; done
    exit "$rc"
    ;;
  restart)
    KEEP_DATA=1
    for svc in "${svcs[@]}"; do
      "stop_$svc"
      "start_$svc"
    done
    ;;
  status)
    for svc in "${svcs[@]}"; do status_one "$svc" || rc=3; done
    exit "$rc"
    ;;
  env)
    for svc in "${svcs[@]}"; do
      case $svc in
      kafka) kafka_pid >/dev/null && echo "export KAFKA_BROKERS=$(kafka_brokers)" ;;
      es) resolve_es_paths && es_pid >/dev/null && echo "export ELASTICSEARCH_URL=$(es_url)" ;;
      esac || true
    done
    ;;
  logs) for svc in "${svcs[@]}"; do logs_one "$svc" "$follow"; done ;;
  -h | --help | help) usage ;;
  *) die "unknown verb '$verb' (start|stop|restart|status|logs|env)" ;;
  esac
}

main "$@"
