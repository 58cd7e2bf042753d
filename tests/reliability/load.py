"""Load that survives breakage: SDK producers on threads, and the stored log read back.

Each producer thread numbers its messages ``p{n}-{i}`` and sends them in order with a
patient retry policy, recording which sends the broker acknowledged. The tests break the
server or its database while this runs, then compare what was acknowledged with what the
database holds.
"""

import asyncio
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from app.database import create_engine
from app.settings import Settings
from logqueue_sdk import Consumer, Producer, RetryPolicy

PATIENT = RetryPolicy(retries=200, backoff=0.05, max_backoff=0.5)
"""Outlasts a server restart or a database restart (about a minute of retrying)."""
DEADLINE = 120.0


@dataclass
class ProducerLoad:
    """``producers`` threads each sending ``per_producer`` numbered messages to ``topic``,
    producer ``n`` through ``urls[n % len(urls)]``."""

    urls: list[str]
    topic: str
    producers: int
    per_producer: int
    acknowledged: dict[str, bool] = field(default_factory=dict)
    """Every message sent, and whether its send returned True."""
    flushed: list[bool] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _progress: threading.Condition = field(default_factory=threading.Condition)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(self.producers)
        ]
        for thread in self._threads:
            thread.start()

    def wait_for_acks(self, count: int, timeout: float = DEADLINE) -> None:
        """Block until ``count`` sends were acknowledged (or fail at the deadline)."""
        with self._progress:
            reached = self._progress.wait_for(
                lambda: self.acks >= count or self.errors or not self.running, timeout
            )
        assert not self.errors, self.errors
        assert reached and self.acks >= count, f"only {self.acks} acknowledged"

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=DEADLINE)
            assert not thread.is_alive(), "a producer never finished"
        assert not self.errors, self.errors

    @property
    def acks(self) -> int:
        return sum(self.acknowledged.values())

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def sent(self) -> list[str]:
        return [body for body, _ in self.acknowledged.items()]

    def _run(self, n: int) -> None:
        try:
            url = self.urls[n % len(self.urls)]
            with Producer(url, [self.topic], retries=PATIENT) as producer:
                for i in range(self.per_producer):
                    body = f"p{n}-{i}"
                    ok = producer.send(self.topic, body)
                    with self._progress:
                        self.acknowledged[body] = ok
                        self._progress.notify_all()
                # A send that ran out of retries is kept; deliver it before stopping.
                self.flushed.append(producer.flush())
        except BaseException as exc:  # reported by wait_for_acks/join in the test's thread
            self.errors.append(exc)
            with self._progress:
                self._progress.notify_all()


def stored_log(database_url: str, topic: str) -> list[tuple[int, str]]:
    """The topic's messages as the database holds them, by offset."""

    async def read() -> list[tuple[int, str]]:
        engine = create_engine(Settings(database_url=database_url))
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        'SELECT m."offset", m.body FROM messages m JOIN topics t '
                        'ON t.id = m.topic_id WHERE t.name = :name ORDER BY m."offset"'
                    ),
                    {"name": topic},
                )
                return [(row[0], row[1]) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def assert_exactly_once_in_order(log: list[tuple[int, str]], load: ProducerLoad) -> None:
    """Every acknowledged message stored once, nothing stored twice, offsets 0..N-1, and
    each producer's messages in the order it sent them."""
    assert [offset for offset, _ in log] == list(range(len(log))), "offsets have a gap"
    copies = Counter(body for _, body in log)
    assert [body for body, count in copies.items() if count > 1] == [], "stored twice"
    acknowledged = {body for body, ok in load.acknowledged.items() if ok}
    assert acknowledged - set(copies) == set(), "acknowledged but not stored"
    assert set(copies) <= set(load.sent()), "stored but never sent"
    for n in range(load.producers):
        numbers = [int(body.split("-")[1]) for _, body in log if body.startswith(f"p{n}-")]
        assert numbers == sorted(numbers), f"producer {n}'s messages out of order"


def long_poll_waiters(url: str) -> int:
    """How many consume requests the server holds waiting, from its own gauge."""
    metrics = httpx.get(url + "/metrics", timeout=5).text
    found = re.search(r"^logqueue_long_poll_waiters (\S+)$", metrics, re.MULTILINE)
    assert found, "no long-poll gauge in /metrics"
    return int(float(found.group(1)))


def register_consumer(url: str, topic: str) -> int:
    reply = httpx.post(url + "/consumer/register", json={"topic": topic}, timeout=30)
    return int(reply.json()["consumer_id"])


def read_with_sdk(url: str, topic: str, consumer_id: int, count: int) -> list[tuple[int, str]]:
    """``count`` messages through the SDK consumer (resuming ``consumer_id``), in order."""
    received: list[tuple[int, str]] = []
    consumer = Consumer(url, consumer_ids={topic: consumer_id}, retries=PATIENT)
    for message in consumer.get_next():
        received.append((message.offset, message.body))
        if len(received) == count:
            consumer.stop()
    return received
