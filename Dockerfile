# LogQueue server image. Configure it with LOGQUEUE_* environment variables only.

# Stage 1: wheels for the SDK, the server and every dependency.
FROM python:3.11-slim AS build
WORKDIR /src
COPY sdk/ sdk/
COPY pyproject.toml README.md ./
COPY app/ app/
RUN pip wheel --no-cache-dir --wheel-dir /wheels ./sdk .

# Stage 2: the runtime, installed from those wheels alone (mounted, so no layer keeps them).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOGQUEUE_HOST=0.0.0.0 \
    LOGQUEUE_PORT=8000 \
    LOGQUEUE_MIGRATE_ON_START=false \
    LOGQUEUE_ALEMBIC_CONFIG=/app/alembic.ini \
    LOGQUEUE_DATABASE_URL=sqlite+aiosqlite:////data/logqueue.db
RUN groupadd --system --gid 10001 logqueue \
    && useradd --system --uid 10001 --gid logqueue --no-create-home --home-dir /app logqueue \
    && install -d -o logqueue -g logqueue /data
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels /wheels/logqueue-*.whl
WORKDIR /app
COPY alembic.ini ./
COPY alembic/ alembic/
COPY docker/entrypoint.sh /usr/local/bin/logqueue-entrypoint
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["logqueue", "healthcheck"]
ENTRYPOINT ["logqueue-entrypoint"]
