#!/bin/sh
# Container start: bring the schema up to date, then become the server (PID 1 gets SIGTERM).
# Migrating here rather than in each server process keeps start-up simple when
# LOGQUEUE_WORKERS > 1; the image sets LOGQUEUE_MIGRATE_ON_START=false for that reason.
set -eu
alembic -c "${LOGQUEUE_ALEMBIC_CONFIG}" upgrade head
exec logqueue serve "$@"
