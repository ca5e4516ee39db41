"""A loopback TCP listener for tests that prove nothing is sent: it counts connections and keeps every byte."""

from __future__ import annotations

import socket
import threading


class Listener:
    """A loopback TCP server that counts the connections it accepts, records what it is sent,
    and answers a tiny HTTP 200 (so an escaped request visibly succeeds)."""

    def __init__(self, *, gate: threading.Event | None = None) -> None:
        self.gate = gate  # when given, each answer waits for it: a request held in flight
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port: int = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            with conn:
                conn.settimeout(0.5)
                try:
                    self.received += conn.recv(65536)
                    if self.gate is not None:
                        self.gate.wait(5)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nescaped")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.server.close()
