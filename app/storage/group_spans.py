"""Offset-range arithmetic for ``group_ranges`` rows, free of SQL so it can be tested alone."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Span:
    """One ``group_ranges`` row: messages ``[start, stop)`` sharing one state."""

    start: int
    stop: int
    lease: int | None
    expires_at: int
    delivery: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def runs(offsets: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted distinct offsets as half-open runs of consecutive values."""
    result: list[tuple[int, int]] = []
    for offset in sorted(set(offsets)):
        if result and result[-1][1] == offset:
            result[-1] = (result[-1][0], offset + 1)
        else:
            result.append((offset, offset + 1))
    return result


def carve(spans: Sequence[Span], offsets: Iterable[int]) -> tuple[list[Span], list[Span]] | None:
    """Split ``spans`` into the parts holding ``offsets`` and the rest.

    None when some offset lies in none of the spans: the request names messages the lease
    does not hold, and must change nothing.
    """
    wanted = runs(offsets)
    chosen: list[Span] = []
    rest: list[Span] = []
    covered = 0
    for span in sorted(spans, key=lambda s: s.start):
        position = span.start
        for low, high in wanted:
            low, high = max(low, span.start), min(high, span.stop)
            if low >= high:
                continue
            if position < low:
                rest.append(replace(span, start=position, stop=low))
            chosen.append(replace(span, start=low, stop=high))
            covered += high - low
            position = high
        if position < span.stop:
            rest.append(replace(span, start=position, stop=span.stop))
    if covered != sum(high - low for low, high in wanted):
        return None
    return chosen, rest


def clip(span: Span, first_offset: int) -> tuple[Span | None, int]:
    """The part of ``span`` retention still keeps, and how many messages it lost."""
    if span.stop <= first_offset:
        return None, span.size
    if span.start < first_offset:
        return replace(span, start=first_offset), first_offset - span.start
    return span, 0


def delivery_of(spans: Sequence[Span], offset: int) -> int:
    """Delivery count of ``offset`` within the (few) spans of one lease."""
    for span in spans:
        if span.start <= offset < span.stop:
            return span.delivery
    raise ValueError(f"offset {offset} is in none of the spans")
