"""Prometheus metrics, in a registry owned by one app (tests build several apps at once).

Counters and histograms are updated as work happens; the pool and waiter gauges read
their values when scraped, and consumer lag is queried from the database per scrape.
"""

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from app.domain import LagReport

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Metrics:
    """Also the queue service's observer: it counts what the service reports."""

    def __init__(self, *, max_lag_series: int) -> None:
        self.registry = CollectorRegistry()
        self.max_lag_series = max_lag_series
        ProcessCollector(registry=self.registry)
        self._produced = Counter(
            "logqueue_messages_produced",
            "Messages stored (committed), by topic.",
            ["topic"],
            registry=self.registry,
        )
        self._consumed = Counter(
            "logqueue_messages_consumed",
            "Messages handed to consumers, by topic.",
            ["topic"],
            registry=self.registry,
        )
        self._batch_messages = Histogram(
            "logqueue_group_commit_batch_messages",
            "Messages written per group-commit transaction.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._latency = Histogram(
            "logqueue_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self._requests = Counter(
            "logqueue_requests",
            "Requests answered, by route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._request_series: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}
        self._waiters = Gauge(
            "logqueue_long_poll_waiters",
            "Consume requests waiting for a message to arrive.",
            registry=self.registry,
        )
        self._pool = Gauge(
            "logqueue_db_pool_checked_out",
            "Database connections currently in use by this process.",
            registry=self.registry,
        )
        self._lag = Gauge(
            "logqueue_consumer_lag",
            "Messages a consumer has not read yet (the consumers with the largest lag only).",
            ["topic", "consumer_id"],
            registry=self.registry,
        )
        self._consumers = Gauge(
            "logqueue_consumers",
            "Registered consumers in all; compare with the number of lag series exported.",
            registry=self.registry,
        )

    def committed(self, topic: str, messages: int) -> None:
        self._produced.labels(topic).inc(messages)
        self._batch_messages.observe(messages)

    def consumed(self, topic: str, messages: int) -> None:
        self._consumed.labels(topic).inc(messages)

    def topic_deleted(self, topic: str) -> None:
        self._produced.remove(topic)
        self._consumed.remove(topic)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Called on every request: each (method, route, status) looks its two series up
        once (``labels()`` validates and locks on every call). The route is a template and
        the server parses only known methods, so this stays small."""
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            series = (
                self._latency.labels(method, route),
                self._requests.labels(method, route, str(status)),
            )
            self._request_series[key] = series
        latency, answered = series
        latency.observe(seconds)
        answered.inc()

    def watch_pool(self, checked_out: Callable[[], int]) -> None:
        self._pool.set_function(checked_out)

    def watch_long_poll_waiters(self, count: Callable[[], int]) -> None:
        self._waiters.set_function(count)

    def render(self, lag: LagReport) -> bytes:
        """The text exposition, with the lag gauge replaced by this scrape's query result."""
        self._lag.clear()
        for entry in lag.lags:
            self._lag.labels(entry.topic, str(entry.consumer_id)).set(entry.lag)
        self._consumers.set(lag.consumers)
        return generate_latest(self.registry)
