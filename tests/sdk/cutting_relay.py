"""A TCP relay in front of a real server that cuts every connection after a few hundred
bytes of answer, often in the middle of an event: only this proves that a stream resumed
after a dropped connection neither loses nor repeats a message."""

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit


class CuttingRelay:
    def __init__(self, upstream: str, cut_after: int) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._cut_after = cut_after
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        self._closed = threading.Event()

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self._upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, self._cut_after), daemon=True
            ).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket, limit: int | None) -> None:
        """Copy bytes until either side closes, or ``limit`` bytes have passed: then close
        both, mid-event if that is where the limit falls."""
        sent = 0
        try:
            while limit is None or sent < limit:
                data = source.recv(4096 if limit is None else min(4096, limit - sent))
                if not data:
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
