"""A batch encoded where it is read (by PostgreSQL's SQL, or with orjson on the portable path)
is byte for byte what orjson makes of the same messages read one by one: for a consume and
for a group's fetch."""

from datetime import UTC, datetime

import orjson
from sqlalchemy import update

from app.database import open_pools
from app.group_types import GroupSettings, LeasedMessage, Start
from app.models import Message
from app.service import QueueService
from app.service.caller import UNRESTRICTED
from app.settings import Settings
from app.storage import create_group_repository, create_repository
from app.storage.message_json import encode_leased, encode_messages

BODIES = [
    "plain",
    'quote " and backslash \\ and slash /',
    "".join(chr(c) for c in range(1, 0x80)),  # every control character, DEL
    "é € 😀 \u2028\u2029\ufeff",
    "</script>",
]
# orjson leaves out the fraction when there are no microseconds.
WHOLE_SECOND = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_encoded_batches_are_what_orjson_writes(empty_db: Settings) -> None:
    pools = await open_pools(empty_db)
    try:
        repository = create_repository(pools)
        service = QueueService.from_settings(repository, empty_db)
        producer = await service.register_producer("t", caller=UNRESTRICTED)
        await service.produce("t", producer, BODIES, caller=UNRESTRICTED)
        async with pools.engine.begin() as conn:
            table = Message.__table__
            await conn.execute(
                update(table).where(table.c.offset == 1).values(produced_at=WHOLE_SECOND)
            )
        topic = await repository.get_topic("t")
        assert topic is not None
        plain = await service.register_consumer("t", caller=UNRESTRICTED)
        encoded = await service.register_consumer("t", caller=UNRESTRICTED)
        read = await repository.read_next(topic.id, plain, 100, 10**6)
        batch = await repository.read_next_encoded(topic.id, encoded, 100, 10**6)
        again = await repository.read_next_encoded(topic.id, encoded, 100, 10**6)
        groups = create_group_repository(pools)
        await groups.put_group("t", "g", GroupSettings(), Start("earliest"), set())
        fetched = await groups.fetch("t", "g", 100, token=1)
    finally:
        await pools.close()
    assert batch.count == len(BODIES)
    assert batch.json == encode_messages(read).json
    assert [m["message"] for m in orjson.loads(batch.json)] == BODIES
    assert orjson.loads(batch.json)[1]["produced_at"] == "2026-01-02T03:04:05Z"
    assert (again.count, again.json) == (0, b"[]")  # the offset moved past the batch
    assert fetched is not None
    first_deliveries = [LeasedMessage(m.offset, m.body, m.produced_at, 1) for m in read]
    assert fetched.messages == encode_leased(first_deliveries)
