"""Queue rules: validation against stored state, id issuing, group commit, waiting."""

from app.service.queue import QueueService

__all__ = ["QueueService"]
