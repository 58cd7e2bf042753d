"""A hypothesis state machine drives one consumer group through fetch, ack, nack, extend,
term, expiry and seek, and checks every answer against a plain Python model of the group.

Time is the model's: the repository reads the model's clock instead of the database's, so
expiry happens exactly when a rule moves the clock.
"""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from app.database import open_pools
from app.errors import LeaseExpired, OffsetsNotInLease
from app.group_types import GroupSettings, Start
from app.service import QueueService
from app.service.groups import GroupService
from app.settings import Settings
from app.storage import create_group_repository, create_repository
from tests.conftest import clear_tables
from tests.service.helpers import ADMIN, leased

T = TypeVar("T")
ACK_WAIT = 1000
MAX_DELIVER = 3


@dataclass
class Leased:
    lease: str
    expires: int
    delivery: int


@dataclass
class Waiting:
    due: int
    delivery: int


@dataclass
class GroupModel:
    """What the group should be: a cursor and the state of each unfinished offset."""

    now: int = 10**12
    end: int = 0
    cursor: int = 0
    unfinished: dict[int, Leased | Waiting] = field(default_factory=dict)
    acked: int = 0
    redelivered: int = 0
    dead: int = 0

    def fetch(self, lease: str, count: int) -> list[tuple[int, int]]:
        taken: list[tuple[int, int]] = []
        for offset in sorted(self.unfinished):
            if len(taken) == count:
                break
            state = self.unfinished[offset]
            if (state.expires if isinstance(state, Leased) else state.due) > self.now:
                continue
            if state.delivery >= MAX_DELIVER:
                del self.unfinished[offset]
                self.dead += 1
                continue
            self.unfinished[offset] = Leased(lease, self.now + ACK_WAIT, state.delivery + 1)
            self.redelivered += 1
            taken.append((offset, state.delivery + 1))
        while len(taken) < count and self.cursor < self.end:
            self.unfinished[self.cursor] = Leased(lease, self.now + ACK_WAIT, 1)
            taken.append((self.cursor, 1))
            self.cursor += 1
        return taken

    def held(self, lease: str) -> dict[int, Leased]:
        return {
            o: s for o, s in self.unfinished.items() if isinstance(s, Leased) and s.lease == lease
        }

    def check(self, lease: str, offsets: list[int] | None) -> list[int] | type[Exception]:
        held = self.held(lease)
        if not held or any(s.expires <= self.now for s in held.values()):
            return LeaseExpired
        if offsets is None:
            return sorted(held)
        if not set(offsets) <= set(held):
            return OffsetsNotInLease
        return sorted(set(offsets))


class GroupMachine(RuleBasedStateMachine):
    database_url = ""
    leases = Bundle("leases")

    def __init__(self) -> None:
        super().__init__()
        self.model = GroupModel()
        self.loop = asyncio.new_event_loop()
        config = Settings(database_url=self.database_url, migrate_on_start=False)
        self.run(clear_tables(config))
        self.pools = self.run(open_pools(config))
        self.queue = QueueService.from_settings(create_repository(self.pools), config)
        repository = create_group_repository(self.pools, clock=lambda: self.model.now)
        self.groups = GroupService(repository, self.queue.wakeups, max_batch=1000)
        self.run(self.queue.create_topic("t", caller=ADMIN))
        self.producer = self.run(self.queue.register_producer("t", caller=ADMIN))
        group = GroupSettings(ack_wait_ms=ACK_WAIT, max_deliver=MAX_DELIVER)
        self.run(self.groups.put_group("t", "g", group, Start("earliest"), set()))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.pools.close())
        self.loop.close()

    @rule(count=st.integers(1, 5))
    def produce(self, count: int) -> None:
        self.run(
            self.queue.produce("t", self.producer, [f"m{i}" for i in range(count)], caller=ADMIN)
        )
        self.model.end += count

    @rule(target=leases, count=st.integers(1, 6))
    def fetch(self, count: int) -> Any:
        found = self.run(self.groups.fetch("t", "g", "member", count, 0))
        got = [(m["offset"], m["delivery"]) for m in leased(found)]
        lease = None if found.token is None else f"{found.group_id}.{found.token}"
        assert got == self.model.fetch(lease or "", count)
        return multiple() if lease is None else lease

    def _settle(self, lease: str, data: st.DataObject, verb: str, delay: int = 0) -> None:
        original = sorted(self.model.held(lease)) or [0]
        offsets = data.draw(
            st.none() | st.lists(st.sampled_from([*original, self.model.end + 1]), min_size=1)
        )
        expected = self.model.check(lease, offsets)
        if isinstance(expected, type):
            with pytest.raises(expected):
                self.run(self.groups.settle("t", "g", lease, offsets, verb, delay))  # type: ignore[arg-type]
            return
        count = self.run(self.groups.settle("t", "g", lease, offsets, verb, delay))  # type: ignore[arg-type]
        assert count == len(expected)
        for offset in expected:
            state = self.model.unfinished.pop(offset)
            if verb == "ack":
                self.model.acked += 1
            elif verb == "term" or state.delivery >= MAX_DELIVER:
                self.model.dead += 1
            else:
                self.model.unfinished[offset] = Waiting(self.model.now + delay, state.delivery)

    @rule(lease=leases, data=st.data())
    def ack(self, lease: str, data: st.DataObject) -> None:
        self._settle(lease, data, "ack")

    @rule(lease=leases, data=st.data(), delay=st.sampled_from([0, 1, ACK_WAIT]))
    def nack(self, lease: str, data: st.DataObject, delay: int) -> None:
        self._settle(lease, data, "nack", delay)

    @rule(lease=leases, data=st.data())
    def term(self, lease: str, data: st.DataObject) -> None:
        self._settle(lease, data, "term")

    @rule(lease=leases, ms=st.sampled_from([None, 1, 3 * ACK_WAIT]))
    def extend(self, lease: str, ms: int | None) -> None:
        expected = self.model.check(lease, None)
        if isinstance(expected, type):
            with pytest.raises(expected):
                self.run(self.groups.extend("t", "g", lease, ms))
            return
        expires = self.run(self.groups.extend("t", "g", lease, ms))
        assert expires == self.model.now + (ACK_WAIT if ms is None else ms)
        for state in self.model.held(lease).values():
            state.expires = expires

    @rule(ms=st.sampled_from([1, ACK_WAIT // 2, ACK_WAIT, 2 * ACK_WAIT]))
    def pass_time(self, ms: int) -> None:
        self.model.now += ms

    @rule(position=st.integers(-1, 40))
    def seek(self, position: int) -> None:
        start = Start("offset", offset=position) if position >= 0 else Start("latest")
        self.run(self.groups.seek("t", "g", start))
        self.model.cursor = self.model.end if position < 0 else min(position, self.model.end)
        self.model.unfinished.clear()

    @invariant()
    def details_match(self) -> None:
        details = self.run(self.groups.details("t", "g"))
        model = self.model
        pending = sum(
            1 for s in model.unfinished.values() if isinstance(s, Leased) and s.expires > model.now
        )
        assert (
            details.next_offset,
            details.pending,
            details.lag,
            details.acked,
            details.redelivered,
            details.dead_lettered,
        ) == (
            model.cursor,
            pending,
            model.end - model.cursor + len(model.unfinished),
            model.acked,
            model.redelivered,
            model.dead,
        )


def test_group_behaves_like_its_model(database_url: str) -> None:
    GroupMachine.database_url = database_url
    run_state_machine_as_test(
        GroupMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
