#!/usr/bin/env bash
# A second, throw-away PostgreSQL cluster for tests that stop and start the database
# (tests/reliability/test_database_restart.py), so the shared cluster on 5432 is never touched.
# Each test run names its own cluster and port (LOGQUEUE_RESTART_CLUSTER, LOGQUEUE_RESTART_PORT),
# so two runs at once never stop each other's database.
#   restart-cluster.sh [up]  creates the cluster if missing, starts it if stopped, makes sure the
#                            login role and the database exist, checks a TCP password login works
#   restart-cluster.sh drop  stops and removes the cluster, data directory included
# Needs root.
set -euo pipefail

CLUSTER="${LOGQUEUE_RESTART_CLUSTER:-logqueue_restart}"
PORT="${LOGQUEUE_RESTART_PORT:-5439}"
ROLE="${LOGQUEUE_PG_ROLE:-logqueue}"
PASSWORD="${LOGQUEUE_PG_PASSWORD:-logqueue}"
DATABASE="${LOGQUEUE_RESTART_DATABASE:-logqueue_restart}"
VERSION="${LOGQUEUE_PG_VERSION:-$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)}"

as_postgres() { runuser -u postgres -- "$@"; }

if [ "${1:-up}" = "drop" ]; then
  if [ -d "/etc/postgresql/${VERSION}/${CLUSTER}" ]; then
    pg_dropcluster --stop "${VERSION}" "${CLUSTER}"
    echo "restart-cluster: dropped ${VERSION}/${CLUSTER}"
  fi
  exit 0
fi

if [ ! -d "/etc/postgresql/${VERSION}/${CLUSTER}" ]; then
  echo "restart-cluster: creating PostgreSQL ${VERSION} cluster '${CLUSTER}' on port ${PORT}"
  # Small buffers: this cluster only ever holds one test's few thousand rows.
  pg_createcluster --port "${PORT}" "${VERSION}" "${CLUSTER}" -- --auth-local=peer \
    --auth-host=scram-sha-256 >/dev/null
  pg_conftool "${VERSION}" "${CLUSTER}" set shared_buffers 16MB
fi

if ! pg_isready -q -h 127.0.0.1 -p "${PORT}"; then
  pg_ctlcluster --skip-systemctl-redirect "${VERSION}" "${CLUSTER}" start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "${PORT}" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "${PORT}"

as_postgres psql -p "${PORT}" -v ON_ERROR_STOP=1 -q -d postgres <<SQL
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
if [ "$(as_postgres psql -p "${PORT}" -tAq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'")" != "1" ]; then
  as_postgres createdb -p "${PORT}" -O "${ROLE}" "${DATABASE}"
fi

# What the server will do: a password login over TCP (fails here if pg_hba refuses it).
PGPASSWORD="${PASSWORD}" psql -h 127.0.0.1 -p "${PORT}" -U "${ROLE}" -d "${DATABASE}" -tAq \
  -c "SELECT 1" >/dev/null
echo "restart-cluster: ${VERSION}/${CLUSTER} ready at postgresql://${ROLE}:***@127.0.0.1:${PORT}/${DATABASE}"
