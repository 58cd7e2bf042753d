#!/usr/bin/env bash
# A throw-away highly available PostgreSQL for LogQueue: one etcd, and two PostgreSQL nodes
# each run by Patroni, with synchronous replication (strict: a commit is acknowledged only
# once the standby has it). Everything lives in a scratch directory and on its own ports, so
# the machine's main cluster on 5432 is never touched. See docs/high-availability.md.
#
#   ha-cluster.sh up            start (or finish starting) the cluster; prints the LogQueue URL
#   ha-cluster.sh status        Patroni's view of the members (leader, sync standby, lag)
#   ha-cluster.sh kill-primary  kill -9 the current primary's postmaster
#   ha-cluster.sh down          stop every process it started and remove the scratch directory
#
# Idempotent, run as root (the daemons run as the postgres OS user). Two copies can coexist
# with their own LOGQUEUE_HA_DIR and LOGQUEUE_HA_PORT (ports PORT..PORT+5 are used).
set -euo pipefail

DIR="${LOGQUEUE_HA_DIR:-/var/tmp/logqueue-ha}"
BASE="${LOGQUEUE_HA_PORT:-5441}"
ROLE="${LOGQUEUE_PG_ROLE:-logqueue}"
PASSWORD="${LOGQUEUE_PG_PASSWORD:-logqueue}"
DATABASE="${LOGQUEUE_HA_DATABASE:-logqueue}"
VERSION="${LOGQUEUE_PG_VERSION:-15}"
SCOPE="${LOGQUEUE_HA_SCOPE:-logqueue-ha-${BASE}}"
BIN="/usr/lib/postgresql/${VERSION}/bin"
NODES=(1 2)
ETCD_CLIENT=$((BASE + 4))
ETCD_PEER=$((BASE + 5))
# Failover in seconds, not Patroni's default of half a minute to five minutes: the leader
# key lives TTL seconds, Patroni wakes every LOOP_WAIT, and a crashed primary is failed
# over at once (primary_start_timeout 0) instead of being restarted in place.
TTL="${LOGQUEUE_HA_TTL:-10}"
LOOP_WAIT="${LOGQUEUE_HA_LOOP_WAIT:-1}"
RETRY_TIMEOUT="${LOGQUEUE_HA_RETRY_TIMEOUT:-4}"

pg_port() { echo $((BASE + $1 - 1)); }
api_port() { echo $((BASE + $1 + 1)); }
data_dir() { echo "${DIR}/node$1/data"; }
as_postgres() { runuser -u postgres -- "$@"; }
log() { echo "ha-cluster: $*" >&2; }

# A pid file written by the process itself (exec keeps the pid), so it names the daemon.
running() {
  local pidfile="${DIR}/$1.pid"
  [ -f "${pidfile}" ] && kill -0 "$(cat "${pidfile}")" 2>/dev/null
}

# Start a daemon as postgres, detached from this shell, logging to DIR/NAME.log.
spawn() {
  local name="$1"
  shift
  # shellcheck disable=SC2016 # $$ and "$@" belong to the inner shell
  setsid runuser -u postgres -- sh -c 'echo $$ > "$0"; exec "$@"' \
    "${DIR}/${name}.pid" "$@" >>"${DIR}/${name}.log" 2>&1 </dev/null &
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

wait_for() {
  local what="$1" seconds="$2"
  shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    "$@" && return 0
    sleep 0.2
  done
  log "timed out after ${seconds}s waiting for ${what}; logs in ${DIR}"
  return 1
}

sql() {
  local node="$1"
  shift
  as_postgres psql -h "${DIR}/run" -p "$(pg_port "${node}")" -d postgres -X -tAq "$@"
}

# The node whose PostgreSQL accepts writes, or nothing.
primary() {
  local node
  for node in "${NODES[@]}"; do
    if [ "$(sql "${node}" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = "f" ]; then
      echo "${node}"
      return 0
    fi
  done
  return 1
}

# Patroni has recorded a synchronous standby (its /sync key), so a crash of the primary
# fails over to it; PostgreSQL reporting the standby as sync comes a moment earlier.
in_sync() {
  local node
  primary >/dev/null || return 1
  for node in "${NODES[@]}"; do
    http_ok "http://127.0.0.1:$(api_port "${node}")/sync" && return 0
  done
  return 1
}

# A directory only the postgres user may enter (PostgreSQL refuses a data directory otherwise).
private_dir() {
  mkdir -p "$1"
  chown postgres:postgres "$1"
  chmod 700 "$1"
}

write_node_config() {
  local node="$1"
  cat >"${DIR}/node${node}.yml" <<YAML
scope: ${SCOPE}
name: node${node}
restapi:
  listen: 127.0.0.1:$(api_port "${node}")
  connect_address: 127.0.0.1:$(api_port "${node}")
etcd3:
  hosts: 127.0.0.1:${ETCD_CLIENT}
bootstrap:
  dcs:
    ttl: ${TTL}
    loop_wait: ${LOOP_WAIT}
    retry_timeout: ${RETRY_TIMEOUT}
    primary_start_timeout: 0
    synchronous_mode: true
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 100
        shared_buffers: 32MB
        wal_keep_size: 128MB
        synchronous_commit: "on"
  initdb:
    - encoding: UTF8
    - data-checksums
postgresql:
  listen: 127.0.0.1:$(pg_port "${node}")
  connect_address: 127.0.0.1:$(pg_port "${node}")
  data_dir: $(data_dir "${node}")
  bin_dir: ${BIN}
  use_unix_socket: true
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  parameters:
    unix_socket_directories: ${DIR}/run
  pg_hba:
    - local all postgres peer
    - local replication postgres peer
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  authentication:
    superuser:
      username: postgres
      password: ${PASSWORD}-superuser
    replication:
      username: replicator
      password: ${PASSWORD}-replication
YAML
  chown postgres:postgres "${DIR}/node${node}.yml"
  chmod 600 "${DIR}/node${node}.yml"
}

create_role_and_database() {
  local node
  node="$(primary)"
  sql "${node}" -v ON_ERROR_STOP=1 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
    CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
  ELSE
    ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}';
  END IF;
END
\$\$;
SQL
  if [ "$(sql "${node}" -c "SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'")" != "1" ]; then
    sql "${node}" -c "CREATE DATABASE ${DATABASE} OWNER ${ROLE}"
  fi
}

database_url() {
  local hosts="" node
  for node in "${NODES[@]}"; do
    hosts="${hosts}host=127.0.0.1:$(pg_port "${node}")&"
  done
  echo "postgresql+asyncpg://${ROLE}:${PASSWORD}@/${DATABASE}?${hosts}target_session_attrs=read-write"
}

up() {
  [ "$(id -u)" = "0" ] || { log "run as root"; exit 1; }
  for tool in patroni etcd curl "${BIN}/postgres"; do
    command -v "${tool}" >/dev/null || { log "missing ${tool}: apt-get install -y patroni etcd-server curl"; exit 1; }
  done
  mkdir -p "${DIR}/run"
  chown postgres:postgres "${DIR}" "${DIR}/run"
  if ! running etcd; then
    private_dir "${DIR}/etcd"
    log "starting etcd on 127.0.0.1:${ETCD_CLIENT}"
    spawn etcd etcd --name etcd --data-dir "${DIR}/etcd" \
      --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT}" \
      --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT}" \
      --listen-peer-urls "http://127.0.0.1:${ETCD_PEER}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER}" \
      --initial-cluster "etcd=http://127.0.0.1:${ETCD_PEER}" \
      --heartbeat-interval 100 --election-timeout 1000
  fi
  wait_for "etcd" 30 http_ok "http://127.0.0.1:${ETCD_CLIENT}/health"
  local node
  for node in "${NODES[@]}"; do
    if ! running "node${node}"; then
      private_dir "${DIR}/node${node}"
      write_node_config "${node}"
      log "starting Patroni node${node}: PostgreSQL on 127.0.0.1:$(pg_port "${node}")"
      spawn "node${node}" patroni "${DIR}/node${node}.yml"
    fi
    # One at a time, so the first node bootstraps and the second clones it.
    wait_for "node${node} to run PostgreSQL" 120 http_ok "http://127.0.0.1:$(api_port "${node}")/health"
  done
  wait_for "a primary with a synchronous standby" 120 in_sync
  create_role_and_database
  database_url
}

status() {
  if ! running etcd; then
    log "not running (no etcd in ${DIR})"
    return 1
  fi
  patronictl -c "${DIR}/node1.yml" list
}

kill_primary() {
  local node pid
  node="$(primary)" || { log "no primary is running"; return 1; }
  pid="$(head -n 1 "$(data_dir "${node}")/postmaster.pid")"
  kill -9 "${pid}"
  echo "ha-cluster: killed -9 the postmaster (pid ${pid}) of node${node}, the primary on 127.0.0.1:$(pg_port "${node}")"
}

stop_daemon() {
  local name="$1" pid
  running "${name}" || return 0
  pid="$(cat "${DIR}/${name}.pid")"
  kill "${pid}"
  if ! wait_for "${name} to stop" 30 not_running "${pid}"; then
    kill -9 "${pid}" 2>/dev/null || true
  fi
}

not_running() { ! kill -0 "$1" 2>/dev/null; }

down() {
  [ -d "${DIR}" ] || return 0
  local node pidfile
  for node in "${NODES[@]}"; do
    stop_daemon "node${node}"
  done
  # Patroni stops its PostgreSQL; a postmaster it left behind (or orphaned backends) go too.
  for node in "${NODES[@]}"; do
    pidfile="$(data_dir "${node}")/postmaster.pid"
    if [ -f "${pidfile}" ] && kill -0 "$(head -n 1 "${pidfile}")" 2>/dev/null; then
      kill -9 "$(head -n 1 "${pidfile}")" || true
    fi
  done
  stop_daemon etcd
  rm -rf "${DIR}"
  log "removed ${DIR}"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kill-primary) kill_primary ;;
  *)
    echo "usage: $0 up|down|status|kill-primary" >&2
    exit 2
    ;;
esac
