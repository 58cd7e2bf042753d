"""Read-only log reads cap a batch by bytes in SQL, and always return at least one message."""

from app.database import create_engine
from app.service import QueueService
from app.service.caller import UNRESTRICTED
from app.settings import Settings
from app.storage import QueueRepository
from app.storage.log_reads import LogReader


async def test_batches_are_capped_by_bytes_but_never_empty(empty_db: Settings) -> None:
    engine = create_engine(empty_db)
    try:
        service = QueueService.from_settings(QueueRepository(engine), empty_db)
        producer = await service.register_producer("t", caller=UNRESTRICTED)
        await service.produce("t", producer, ["é" * 50] * 5, caller=UNRESTRICTED)  # 100 B each
        reader = LogReader(engine)
        bounds = await reader.bounds("t")
        assert bounds is not None
        forward = await reader.read_from(bounds.topic_id, 1, limit=10, max_bytes=250)
        backward = await reader.read_before(bounds.topic_id, 5, limit=10, max_bytes=250)
        one = await reader.read_from(bounds.topic_id, 0, limit=10, max_bytes=1)
        counted = await reader.read_from(bounds.topic_id, 0, limit=3, max_bytes=10**6)
    finally:
        await engine.dispose()
    assert [m.offset for m in forward] == [1, 2]
    assert [m.offset for m in backward] == [4, 3]
    assert [m.offset for m in one] == [0]
    assert [m.offset for m in counted] == [0, 1, 2]
