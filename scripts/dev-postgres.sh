#!/usr/bin/env bash
# Bring up a local PostgreSQL for development and tests on a fresh machine.
# Idempotent: starts the installed cluster only if it is not accepting connections,
# then makes sure the login role (with CREATEDB: each test run creates and drops a database
# of its own) and the development databases exist.
set -euo pipefail

ROLE="${LOGQUEUE_PG_ROLE:-logqueue}"
PASSWORD="${LOGQUEUE_PG_PASSWORD:-logqueue}"
DATABASES="${LOGQUEUE_PG_DATABASES:-logqueue logqueue_bench}"

as_postgres() { runuser -u postgres -- "$@"; }

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  echo "dev-postgres: starting PostgreSQL ${version} cluster 'main'"
  pg_ctlcluster --skip-systemctl-redirect "${version}" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p 5432

as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN
    CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}' CREATEDB;
  ELSE
    ALTER ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}' CREATEDB;
  END IF;
END
\$\$;
SQL

for db in ${DATABASES}; do
  if [ "$(as_postgres psql -tAq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '${db}'")" != "1" ]; then
    as_postgres createdb -O "${ROLE}" "${db}"
    echo "dev-postgres: created database ${db}"
  fi
done
echo "dev-postgres: ready at postgresql://${ROLE}:***@127.0.0.1:5432/ (databases: ${DATABASES})"
