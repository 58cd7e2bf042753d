"""The threaded producer's futures: cheap (they share their producer's condition) but
genuine ``concurrent.futures.Future``s, against a real server.

A long ``linger`` keeps messages queued until ``flush()``, so a test sees its futures
pending and then done, with no sleep to line anything up.
"""

import concurrent.futures
import threading

import pytest

from logqueue_sdk import InvalidRequest, Producer

LONG = 60.0
"""A linger no test waits out: nothing is sent before ``flush()`` (or a full batch)."""


def test_a_pending_future_is_running_and_cannot_be_withdrawn(broker: str, topic: str) -> None:
    with Producer(broker, [topic], linger=LONG) as producer:
        future = producer.produce(topic, "m")
        assert isinstance(future, concurrent.futures.Future)
        assert not future.done() and future.running()
        assert future.cancel() is False, "a queued message is sent, not withdrawn"
        assert not future.cancelled()
        with pytest.raises(TimeoutError):
            future.result(timeout=0.05)
        with pytest.raises(TimeoutError):
            future.exception(timeout=0.05)
        assert producer.flush() is True
        assert future.done() and not future.running() and not future.cancelled()
        assert future.result() is True and future.exception() is None
        assert future.cancel() is False


def test_done_callbacks_run_once_each_also_when_added_late(broker: str, topic: str) -> None:
    seen: list[tuple[str, bool]] = []
    with Producer(broker, [topic], linger=LONG) as producer:
        future = producer.produce(topic, "m")
        future.add_done_callback(lambda done: seen.append(("early", done.result())))
        assert seen == []
        assert producer.flush() is True
        assert seen == [("early", True)]
        future.add_done_callback(lambda done: seen.append(("late", done.result())))
    assert seen == [("early", True), ("late", True)]


def test_wait_and_as_completed_see_every_future(broker: str, topic: str) -> None:
    with Producer(broker, [topic], linger=LONG) as producer:
        futures = [producer.produce(topic, f"m{i}") for i in range(35)]
        done, pending = concurrent.futures.wait(futures, timeout=0.05)
        assert not done and len(pending) == 35
        flushing = threading.Thread(target=producer.flush)
        flushing.start()
        try:
            completed = list(concurrent.futures.as_completed(futures, timeout=30))
        finally:
            flushing.join()
        assert sorted(map(id, completed)) == sorted(map(id, futures))
        done, pending = concurrent.futures.wait(futures, timeout=0)
        assert len(done) == 35 and not pending
        first, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
        assert first


def test_waiters_on_later_batches_are_not_woken_early(broker: str, topic: str) -> None:
    """Futures of one producer share a condition, notified as each batch is answered: a
    thread blocked in ``result()`` on the last batch must keep waiting through the
    notifications for the first ones (``Future.result`` alone would raise TimeoutError)."""
    with Producer(broker, [topic], linger=LONG, max_batch=5) as producer:
        futures = [producer.produce(topic, f"m{i}") for i in range(40)]
        results: list[object] = []
        lock = threading.Lock()

        def wait_for(index: int) -> None:
            try:
                outcome: object = futures[index].result()
            except BaseException as exc:
                outcome = exc
            with lock:
                results.append(outcome)

        waiters = [threading.Thread(target=wait_for, args=(i,)) for i in range(39, -1, -3)]
        for waiter in waiters:
            waiter.start()
        try:
            assert producer.flush() is True
        finally:
            for waiter in waiters:
                waiter.join(timeout=30)
        assert results == [True] * len(waiters)


def test_a_refused_message_is_the_exception_of_its_future_alone(broker: str, topic: str) -> None:
    with Producer(broker, [topic], linger=LONG) as producer:
        good = producer.produce(topic, "a")
        bad = producer.produce(topic, "")
        assert producer.flush() is True
        assert good.exception() is None and good.result() is True
        assert isinstance(bad.exception(), InvalidRequest)
        with pytest.raises(InvalidRequest):
            bad.result()
