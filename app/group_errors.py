"""Consumer-group errors; each carries its HTTP status and machine code."""

from app.errors import LogQueueError


class GroupNotFound(LogQueueError):
    status_code = 404
    code = "group_not_found"

    def __init__(self, topic: str, group: str) -> None:
        super().__init__(f"Group '{group}' does not exist on topic '{topic}'")


class LeaseNotFound(LogQueueError):
    """A lease id this group never handed out (another group's, or not a lease id)."""

    status_code = 404
    code = "lease_not_found"

    def __init__(self, group: str) -> None:
        super().__init__(f"The lease id is not a lease of group '{group}'")


class LeaseExpired(LogQueueError):
    """The lease is a fencing token: once expired, its messages may be someone else's."""

    status_code = 409
    code = "lease_expired"

    def __init__(self) -> None:
        super().__init__(
            "The lease has expired or holds nothing any more; its messages may have been "
            "delivered again, so nothing was changed"
        )


class OffsetsNotInLease(LogQueueError):
    status_code = 409
    code = "offsets_not_in_lease"

    def __init__(self) -> None:
        super().__init__("Some offsets are not held by this lease; nothing was changed")


class DeadLetterLoop(LogQueueError):
    """Dead letters appended to the group's own topic would be delivered to it again."""

    status_code = 409
    code = "dead_letter_loop"

    def __init__(self, topic: str) -> None:
        super().__init__(f"The dead-letter topic must be another topic than '{topic}'")
