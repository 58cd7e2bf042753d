"""The rewriting that generates the sync SDK from the async one (scripts/unasync.py)."""

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "unasync.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_async_spellings_become_sync_ones() -> None:
    line = _script().unasync_line
    assert line("    async def send(self) -> bool:") == "    def send(self) -> bool:"
    assert line("        async with self._gate.open():") == "        with self._gate.open():"
    assert line("        async for m in consumer:") == "        for m in consumer:"
    assert line("x = await self._request(call)") == "x = self._request(call)"
    assert line("work: Callable[[], Awaitable[None]]") == "work: Callable[[], None]"
    assert line("httpx.AsyncClient(base_url=b)") == "httpx.Client(base_url=b)"
    assert line("-> AsyncIterator[Message]:") == "-> Iterator[Message]:"
    assert line("AsyncProducer(broker)") == "Producer(broker)"
    assert line("await self._http.aclose()") == "self._http.close()"
    assert line("def __aenter__ __aexit__ __aiter__") == "def __enter__ __exit__ __iter__"
    assert line("@asynccontextmanager") == "@contextmanager"


def test_the_hand_written_pairs_are_not_generated() -> None:
    generated = {target.name for _, target in _script().pairs()}
    assert "producer.py" in generated and "test_sync.py" in generated
    assert not generated & {"_primitives.py", "_lifecycle.py"}
