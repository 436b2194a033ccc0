"""A slow echo server on 127.0.0.1, standing in for a remote service, and a blocking client for it."""

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator


class SlowEchoServer(socketserver.ThreadingTCPServer):
    """Echoes each request after ``latency`` seconds, and counts how many it served at once at most."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops the SYN of a 6th client connecting at once, which then
    # waits a second for the retry: the requests must not queue before the server sees them.
    request_queue_size = 256

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self._lock = threading.Lock()
        self._serving = 0
        self.most_at_once = 0
        super().__init__(("127.0.0.1", 0), _EchoHandler)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        return str(host), int(port)

    def serving(self, change: int) -> None:
        with self._lock:
            self._serving += change
            self.most_at_once = max(self.most_at_once, self._serving)

    def recount(self) -> None:
        """Start counting requests at once afresh."""
        with self._lock:
            self.most_at_once = self._serving


class _EchoHandler(socketserver.BaseRequestHandler):
    server: SlowEchoServer

    def handle(self) -> None:
        self.request.settimeout(10)
        data = self.request.recv(65536)
        # A request counts from its arrival until its answer starts out: the client cannot send its next
        # request before it has the answer, so requests made one after another never count as two.
        self.server.serving(+1)
        try:
            time.sleep(self.server.latency)
        finally:
            self.server.serving(-1)
        self.request.sendall(data)


@contextlib.contextmanager
def running_echo_server(latency: float) -> Iterator[SlowEchoServer]:
    """A SlowEchoServer serving on a thread of its own for the ``with`` block, then shut down."""
    with SlowEchoServer(latency) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join()


def echo_once(address: tuple[str, int], payload: bytes) -> None:
    """Send ``payload`` and wait for all of it to come back (a blocking client)."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("the echo server closed the connection early")
            received += chunk
    if received != payload:
        raise ConnectionError("the echo server sent back something else")
