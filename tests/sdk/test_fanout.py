"""The original course's fan-out scenario, with the synchronous SDK in threads.

Producers: P1 on T-1, T-2, T-3; P2 on T-1 and T-3; P3 on T-1; P4 and P5 on T-2; each sends
1,000 messages, round-robin over its topics. Consumers: C-1 on all three; C-2 and C-3 on T-1
and T-3; they read with ``get_next()`` while the producers are still sending.
"""

import threading
from collections import Counter, defaultdict

import pytest

from logqueue_sdk import Consumer, Message, Producer
from tests.sdk.helpers import create_topic, unique, wait_until

PER_PRODUCER = 1000
PRODUCERS = {
    "P1": ["T-1", "T-2", "T-3"],
    "P2": ["T-1", "T-3"],
    "P3": ["T-1"],
    "P4": ["T-2"],
    "P5": ["T-2"],
}
CONSUMERS = {"C-1": ["T-1", "T-2", "T-3"], "C-2": ["T-1", "T-3"], "C-3": ["T-1", "T-3"]}


def _plan() -> dict[str, list[tuple[str, str]]]:
    """Each producer's sends in order: (topic, body); bodies are 'producer seq'."""
    return {
        name: [(topics[seq % len(topics)], f"{name} {seq}") for seq in range(PER_PRODUCER)]
        for name, topics in PRODUCERS.items()
    }


@pytest.mark.postgres_only
def test_course_fan_out(broker: str) -> None:
    run = unique("fanout")
    real = {t: f"{run}-{t}" for t in ("T-1", "T-2", "T-3")}
    for name in real.values():
        create_topic(broker, name)
    plan = _plan()
    expected = Counter(topic for sends in plan.values() for topic, _ in sends)

    consumers = {
        name: Consumer(broker, [real[t] for t in topics]) for name, topics in CONSUMERS.items()
    }
    received: dict[str, list[Message]] = {name: [] for name in consumers}
    readers = [
        threading.Thread(target=lambda n=name: received[n].extend(consumers[n].get_next()))
        for name in consumers
    ]
    failures: list[str] = []

    def produce(name: str) -> None:
        with Producer(broker, [real[t] for t in PRODUCERS[name]]) as producer:
            for topic, body in plan[name]:
                if not producer.send(real[topic], body):
                    failures.append(f"{name}: {body}")

    producers = [threading.Thread(target=produce, args=(name,)) for name in PRODUCERS]
    for thread in readers + producers:
        thread.start()
    for thread in producers:
        thread.join(timeout=300)
    assert failures == []

    for name, topics in CONSUMERS.items():
        total = sum(expected[t] for t in topics)
        wait_until(lambda n=name, k=total: len(received[n]) >= k, 120, f"{name} to read {total}")
    for consumer in consumers.values():
        consumer.stop()
    for thread in readers:
        thread.join(timeout=30)
        assert not thread.is_alive()

    by_topic = _streams(received, real)
    # C-1 received every message exactly once.
    sent = Counter((real[topic], body) for sends in plan.values() for topic, body in sends)
    assert Counter((m.topic, m.body) for m in received["C-1"]) == sent
    for name, topics in CONSUMERS.items():
        assert len(received[name]) == sum(expected[t] for t in topics)
        for topic in topics:
            stream = by_topic[name][topic]
            # Each topic arrives as the whole log, in offset order.
            assert [m.offset for m in stream] == list(range(expected[topic])), (name, topic)
            _assert_send_order(stream)
    # Every consumer's T-1 and T-3 streams are identical.
    for topic in ("T-1", "T-3"):
        streams = [[(m.offset, m.body) for m in by_topic[name][topic]] for name in CONSUMERS]
        assert streams[0] == streams[1] == streams[2], topic


def _streams(
    received: dict[str, list[Message]], real: dict[str, str]
) -> dict[str, dict[str, list[Message]]]:
    """Per consumer, per course topic name, the messages in the order they were received."""
    course_name = {name: course for course, name in real.items()}
    streams: dict[str, dict[str, list[Message]]] = defaultdict(lambda: defaultdict(list))
    for consumer, messages in received.items():
        for message in messages:
            streams[consumer][course_name[message.topic]].append(message)
    return streams


def _assert_send_order(stream: list[Message]) -> None:
    """Each producer's messages appear in the order it sent them."""
    last: dict[str, int] = {}
    for message in stream:
        producer, seq = message.body.split()
        assert int(seq) > last.get(producer, -1), (message.topic, message.body)
        last[producer] = int(seq)
