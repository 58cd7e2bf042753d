"""Who is calling, and what that caller may do: the rules of optional access control.

An API key is never kept: only its SHA-256 fingerprint, which is also what a producer or
consumer id records as its ``owner``. The HTTP layer turns a bearer token into a ``Caller``;
the queue service asks the caller whether it may act.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.errors import Forbidden, Unauthenticated
from app.settings import Settings

ADMIN_PREFIX = "admin:"
# Keys are compared through their fingerprints with no rate limit, so a short key could be
# found by trying them all; 16 characters of a random token put that out of reach.
MIN_KEY_LENGTH = 16


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """``owner`` is the fingerprint of the caller's key, None with access control off."""

    owner: str | None
    admin: bool

    def require_admin(self, action: str) -> None:
        if not self.admin:
            raise Forbidden(f"{action} needs an admin API key")

    def check_owner(self, role: str, client_id: int, owner: str | None) -> None:
        """Ids stay bound to the key that registered them; admin keys may use any id."""
        if self.admin or owner == self.owner:
            return
        if owner is None:
            raise Forbidden(
                f"{role.capitalize()} {client_id} was registered while access control was "
                "off; only an admin API key may use it"
            )
        raise Forbidden(f"{role.capitalize()} {client_id} belongs to another API key")


# Access control off: every request may do everything, and ids get no owner.
UNRESTRICTED = Caller(owner=None, admin=True)


class KeyRing:
    """The configured keys, by fingerprint; empty means access control is off."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        """``entries`` are (where it came from, entry) pairs; errors name only the source,
        never the key."""
        self._admin: dict[str, bool] = {}
        for source, entry in entries:
            admin = entry.startswith(ADMIN_PREFIX)
            key = entry.removeprefix(ADMIN_PREFIX) if admin else entry
            if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
                raise ValueError(
                    f"{source}: an API key must be at least {MIN_KEY_LENGTH} characters "
                    "without spaces"
                )
            digest = fingerprint(key)
            # The same key listed as admin and as client: the union of both grants.
            self._admin[digest] = self._admin.get(digest, False) or admin

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        entries = [
            (f"LOGQUEUE_API_KEYS entry {number}", key.get_secret_value())
            for number, key in enumerate(settings.api_keys, start=1)
        ]
        if settings.api_keys_file is not None:
            from_file = _file_entries(settings.api_keys_file)
            if not from_file:
                # An operator who names a key file meant to turn access control on.
                raise ValueError(f"LOGQUEUE_API_KEYS_FILE {settings.api_keys_file} has no keys")
            entries += from_file
        return cls(entries)

    @property
    def enabled(self) -> bool:
        return bool(self._admin)

    def caller(self, key: str | None) -> Caller:
        """The caller a bearer token stands for; Unauthenticated if it is missing or unknown."""
        if not self._admin:
            return UNRESTRICTED
        if key is None:
            raise Unauthenticated("Missing API key: send 'Authorization: Bearer <key>'")
        digest = fingerprint(key)
        admin = self._admin.get(digest)
        if admin is None:
            raise Unauthenticated("Unknown API key")
        return Caller(owner=digest, admin=admin)


def _file_entries(path: Path) -> list[tuple[str, str]]:
    """One entry per line; blank lines and lines starting with ``#`` are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (f"{path} line {number}", stripped)
        for number, line in enumerate(lines, start=1)
        if (stripped := line.strip()) and not stripped.startswith("#")
    ]
