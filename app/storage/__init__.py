"""All SQL lives here; nothing in this package knows about HTTP."""

from app.storage.repository import QueueRepository, StoredMessage, TopicRecord

__all__ = ["QueueRepository", "StoredMessage", "TopicRecord"]
