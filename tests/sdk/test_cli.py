"""The ``logqueue`` console script's client commands, run as real processes."""

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from logqueue_sdk import Consumer, Producer
from tests.live_server import free_port
from tests.processes import running
from tests.sdk.helpers import create_topic, wait_until

LOGQUEUE = str(Path(sys.executable).parent / "logqueue")


def run(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOGQUEUE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_produce_from_stdin_and_consume_back(broker: str, topic: str) -> None:
    lines = "first\nsecond, with spaces\r\n\nthird é\nno newline at the end"
    produced = run("produce", topic, "-", "--broker", broker, stdin=lines)
    assert produced.returncode == 0, produced.stderr
    assert f"Sent 4 message(s) to '{topic}'" in produced.stderr

    consumed = run("consume", topic, "--broker", broker)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.splitlines() == [
        "first",
        "second, with spaces",
        "third é",
        "no newline at the end",
    ]
    consumer_id = consumed.stderr.strip().removeprefix("consumer id: ")
    assert run("size", topic, "--consumer-id", consumer_id, "--broker", broker).stdout == "0\n"

    again = run("produce", topic, "one more", LOGQUEUE_BROKER=broker)
    assert again.returncode == 0, again.stderr
    resumed = run("consume", topic, "--consumer-id", consumer_id, LOGQUEUE_BROKER=broker)
    assert (resumed.returncode, resumed.stdout, resumed.stderr) == (0, "one more\n", "")


def test_topics_commands(broker: str, topic: str) -> None:
    created = run("topics", "create", topic, "--broker", broker.removeprefix("http://"))
    assert (created.returncode, created.stdout) == (0, f"Topic '{topic}' created\n")
    listed = run("topics", "list", "--broker", broker)
    assert topic in listed.stdout.splitlines()
    twice = run("topics", "create", topic, "--broker", broker)
    assert twice.returncode == 1
    assert twice.stderr == f"error: Topic '{topic}' already exists\n"
    tolerated = run("topics", "create", topic, "--exist-ok", "--broker", broker)
    assert (tolerated.returncode, tolerated.stdout) == (0, f"Topic '{topic}' already exists\n")


def test_errors_are_one_line_and_exit_1(broker: str, topic: str) -> None:
    missing = run("consume", topic, "--broker", broker)
    assert (missing.returncode, missing.stderr) == (1, f"error: Topic '{topic}' does not exist\n")
    create_topic(broker, topic)
    unknown = run("size", topic, "--consumer-id", "5", "--broker", broker)
    assert (unknown.returncode, unknown.stderr) == (1, "error: Consumer 5 is not registered\n")
    nowhere = run("topics", "list", "--broker", f"127.0.0.1:{free_port()}")
    assert nowhere.returncode == 1
    assert nowhere.stderr.startswith("error: Cannot reach the broker at http://127.0.0.1:")
    refused = run("produce", topic, "--broker", broker, stdin="x" * (1024 * 1024 + 1))
    assert refused.returncode == 1 and "the limit is" in refused.stderr


def test_produce_sends_lines_as_they_arrive(broker: str, topic: str) -> None:
    """A pipe that trickles (``tail -f``) is not held back until the batch fills or EOF."""
    with running(
        [LOGQUEUE, "produce", topic, "--broker", broker],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as producing:
        assert producing.stdin is not None
        producing.stdin.write("early\n")
        producing.stdin.flush()
        wait_until(lambda: topic in _topics(broker), what="the producer to register")
        with Consumer(broker, [topic]) as consumer:
            wait_until(lambda: consumer.size(topic) == 1, what="the first line before EOF")
            producing.stdin.write("late\n")
            producing.stdin.close()
            assert producing.wait(timeout=60) == 0
            got = [consumer.dequeue(topic) for _ in range(3)]
            assert [m.body if m else None for m in got] == ["early", "late", None]


def _topics(broker: str) -> list[str]:
    listed = run("topics", "list", "--broker", broker)
    return listed.stdout.splitlines()


def test_consume_follow_prints_new_messages_until_interrupted(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    with running(
        [LOGQUEUE, "consume", topic, "--follow", "--broker", broker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as following:
        lines = _lines_of(following)
        with Producer(broker, [topic]) as producer:
            for i in range(3):
                assert producer.send(topic, f"live {i}")
        assert [lines.get(timeout=30) for _ in range(3)] == ["live 0", "live 1", "live 2"]
        following.send_signal(signal.SIGINT)
        assert following.wait(timeout=30) == 130
        assert following.stderr is not None
        assert following.stderr.read().startswith("consumer id: ")


def _lines_of(process: subprocess.Popen[str]) -> "queue.Queue[str]":
    """Stdout lines as they come, without blocking the test on a read."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return lines
