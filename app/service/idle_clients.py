"""When a producer or consumer counts as unused, for ``LOGQUEUE_IDLE_CLIENT_TTL``.

An id is *used* when a request naming it (produce, consume, ``/size``) passes its checks.
Writing that moment to the id's row on every request would add a write to the hot path, so
each server process stamps ``last_used_at`` at most once per stamping interval per id: a
row may be up to one interval behind the id's last use. The retention task therefore
removes an id only once its stamp is older than the TTL plus that interval, which makes
the promise exact: an id is never removed within the TTL of its last use, and is removed at
the latest TTL + interval + ``LOGQUEUE_RETENTION_INTERVAL_S`` after it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Stamps are written whether or not a TTL is set, so that turning one on later judges
# ids by their real use; without a TTL, once a minute per id and process is plenty.
MAX_STAMP_INTERVAL = timedelta(seconds=60)


def utc_now() -> datetime:
    """The clock of stamps and of the retention task, which compares against them."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IdlePolicy:
    """``ttl`` None: ids are never removed for being unused."""

    ttl: timedelta | None = None

    @classmethod
    def from_seconds(cls, ttl_s: float | None) -> "IdlePolicy":
        return cls(timedelta(seconds=ttl_s) if ttl_s else None)

    @property
    def stamp_interval(self) -> timedelta:
        """A quarter of the TTL, at most a minute: stamps stay cheap and the removal
        margin (one interval) small beside the TTL."""
        if self.ttl is None:
            return MAX_STAMP_INTERVAL
        return min(MAX_STAMP_INTERVAL, self.ttl / 4)

    def cutoff(self, now: datetime) -> datetime | None:
        """Ids stamped before this are unused for longer than the TTL; None: keep all."""
        if self.ttl is None:
            return None
        return now - self.ttl - self.stamp_interval
