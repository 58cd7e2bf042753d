"""Property: whatever the interleaving of produces, consumes and size calls across several
consumers, each consumer reads exactly the topic's log, in order, from where it stands."""

import asyncio
import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.database import open_pools
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.service.helpers import ADMIN

CONSUMERS = 3


@dataclass(frozen=True)
class Produce:
    bodies: list[str]


@dataclass(frozen=True)
class Consume:
    who: int
    limit: int


@dataclass(frozen=True)
class Size:
    who: int


Operation = Produce | Consume | Size

body = st.text(min_size=1, max_size=5).filter(lambda s: "\x00" not in s)
consumer_index = st.integers(0, CONSUMERS - 1)
operations = st.lists(
    st.one_of(
        st.builds(Produce, st.lists(body, min_size=1, max_size=4)),
        st.builds(Consume, consumer_index, st.integers(1, 5)),
        st.builds(Size, consumer_index),
    ),
    max_size=25,
)


async def check(database_url: str, ops: list[Operation]) -> None:
    settings = Settings(database_url=database_url)
    pools = await open_pools(settings)
    service = QueueService.from_settings(create_repository(pools), settings)
    topic = f"prop-{uuid.uuid4().hex[:12]}"
    try:
        producer_id = await service.register_producer(topic, caller=ADMIN)
        consumers = [await service.register_consumer(topic, caller=ADMIN) for _ in range(CONSUMERS)]
        log: list[str] = []
        offsets = [0] * CONSUMERS
        for op in ops:
            match op:
                case Produce(bodies):
                    stored = await service.produce(topic, producer_id, bodies, caller=ADMIN)
                    assert stored.first == len(log)
                    log.extend(bodies)
                case Consume(who, limit):
                    got = await service.consume(topic, consumers[who], limit, caller=ADMIN)
                    start = offsets[who]
                    assert [(m.offset, m.body) for m in got] == list(
                        enumerate(log[start : start + limit], start)
                    )
                    offsets[who] += len(got)
                case Size(who):
                    remaining = await service.remaining(topic, consumers[who], caller=ADMIN)
                    assert remaining == len(log) - offsets[who]
    finally:
        await pools.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_each_consumer_sees_a_prefix_of_the_log(database_url: str, ops: list[Operation]) -> None:
    asyncio.run(check(database_url, ops))
