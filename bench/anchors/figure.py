"""What an anchor load measured, with the durability its acknowledgement promises."""

from dataclasses import dataclass
from typing import Literal

from bench.measure import Run

Counterpart = Literal["send_loop", "produce_flush", "send_batch", "drain"]
"""The LogQueue SDK load (a ``UserFigures`` field) that does the same job as an anchor load."""


@dataclass(frozen=True)
class AnchorFigure:
    anchor: str
    load: str
    counterpart: Counterpart | None
    durability: str
    """What an acknowledgement promises, compared with LogQueue's commit before the answer."""
    run: Run | None
    skipped: str = ""
    """Why there is no run (the binary is missing)."""
