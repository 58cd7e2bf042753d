"""The two flavours keep the same public surface, so code moves between them by adding awaits."""

import inspect

import pytest

import logqueue_sdk
from logqueue_sdk import (
    AsyncClient,
    AsyncConsumer,
    AsyncProducer,
    Client,
    Consumer,
    Producer,
)

# Names that differ by necessity: asyncio's protocols, and work a sync constructor does itself.
ASYNC_ONLY = {"aclose", "start", "__aenter__", "__aexit__", "__aiter__"}
SYNC_ONLY = {"close", "__enter__", "__exit__", "__iter__"}
PLAIN_IN_BOTH = {"can_send", "topic_id_map"}


def _public(cls: type) -> set[str]:
    return {
        name for name in dir(cls) if not name.startswith("_") or name in ASYNC_ONLY | SYNC_ONLY
    } - set(dir(object))


@pytest.mark.parametrize(
    ("sync", "async_"),
    [(Client, AsyncClient), (Producer, AsyncProducer), (Consumer, AsyncConsumer)],
)
def test_same_methods_in_both_flavours(sync: type, async_: type) -> None:
    assert _public(sync) - SYNC_ONLY == _public(async_) - ASYNC_ONLY
    for name in _public(async_) - ASYNC_ONLY - PLAIN_IN_BOTH:
        method = getattr(async_, name)
        assert inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method), name
        assert inspect.signature(getattr(sync, name)).parameters.keys() == (
            inspect.signature(method).parameters.keys()
        ), name
    assert inspect.signature(sync).parameters.keys() == inspect.signature(async_).parameters.keys()


def test_public_names_have_docstrings() -> None:
    for name in logqueue_sdk.__all__:
        exported = getattr(logqueue_sdk, name)
        if not inspect.isclass(exported):
            continue
        assert exported.__doc__, name
        for attr, member in vars(exported).items():
            if not attr.startswith("_") and callable(member):
                assert member.__doc__, f"{name}.{attr}"
