"""LogQueue server: a durable HTTP log queue on PostgreSQL or SQLite."""

__version__ = "0.1.0"
