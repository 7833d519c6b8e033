"""paho's network loop on a thread of ours, reading from the broker only while the worker has room.

paho's own ``loop_start`` thread reads whatever the broker sends. A broker that does not
honour the consumer's Receive Maximum would then have the consumer buffer its whole
backlog. This loop is paho's ``loop_forever`` with one difference: it reads the socket
only while ``can_read()`` is true and otherwise leaves the broker's messages in TCP's
buffers, which stops the broker sending (`ingest.inbox` says how that bounds memory).
It never stops writing, so PUBACKs, PINGREQs and publishes go out whatever the worker
does, and it reconnects with backoff when the connection drops. It drives paho through
its documented external-loop calls (``loop_read``, ``loop_write``, ``loop_misc``,
``want_write``, ``socket``, ``on_socket_register_write``).

With a broker that honours the Receive Maximum, reading never pauses. With one that does
not, a pause longer than the keepalive (the worker stalled, say through a database outage,
just as the broker sent a flood) keeps the broker's PINGRESP unread behind the flood, and
paho drops the connection after about two keepalives and reconnects: one reconnect,
nothing lost, since what was not acknowledged comes again.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt

__all__ = ["NetworkLoop"]

log = logging.getLogger("stridewatch.ingest")


class NetworkLoop:
    """`loop_start` and `loop_stop` in place of the client's own; ``can_read`` is asked before each
    read, and ``on_crash`` told if the loop dies (paho's own thread would end in silence)."""

    def __init__(
        self,
        client: mqtt.Client,
        *,
        can_read: Callable[[], bool],
        name: str,
        on_crash: Callable[[BaseException], None] | None = None,
        min_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
    ) -> None:
        self._client = client
        self._can_read = can_read
        self._on_crash = on_crash
        self._min_delay_s = min_delay_s
        self._max_delay_s = max_delay_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._wake: tuple[socket.socket, socket.socket] | None = None  # what select() wakes on besides the broker
        # Other threads queue packets (acks, publishes): paho says so through this callback.
        client.on_socket_register_write = lambda *_: self.wake()

    def loop_start(self) -> None:
        self._wake = socket.socketpair()
        for end in self._wake:
            end.setblocking(False)
        self._thread.start()

    def loop_stop(self, timeout: float = 2.0) -> bool:
        """Write what is queued, then a DISCONNECT, and end; waits up to ``timeout``. True if ended."""
        self._stopping.set()
        self.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        for end in self._wake or ():
            end.close()
        return True

    def wake(self) -> None:
        """Have the loop look again (room to read, packets to write, a stop)."""
        if self._wake is not None:
            with contextlib.suppress(OSError):  # already awake (buffer full), or stopped
                self._wake[1].send(b"\0")

    def _run(self) -> None:
        assert self._wake is not None  # loop_start made it
        try:
            self._serve(self._wake[0])
        except BaseException as exc:  # a callback's bug: without this thread the client is cut off for good
            if self._on_crash is None:
                raise
            self._on_crash(exc)

    def _serve(self, wake: socket.socket) -> None:
        delay = self._min_delay_s
        disconnecting = False
        while True:
            sock = self._client.socket()
            if self._stopping.is_set():
                if sock is None:
                    return
                if not disconnecting:  # goes out after what is queued; paho closes the socket once it is sent
                    disconnecting = True
                    self._client.disconnect()
            elif sock is None:
                if self._stopping.wait(delay):
                    continue
                try:
                    self._client.reconnect()
                except OSError as exc:
                    delay = min(delay * 2, self._max_delay_s)
                    log.debug("reconnect failed", extra={"error": str(exc), "retry_in_s": delay})
                continue
            elif self._client.is_connected():
                delay = self._min_delay_s
            self._once(sock, wake)

    def _once(self, sock: mqtt.SocketLike, wake: socket.socket) -> None:
        reading = self._can_read()
        # TLS may hold decrypted bytes that select() cannot see.
        pending = reading and getattr(sock, "pending", lambda: 0)() > 0
        writing = [sock] if self._client.want_write() else []
        try:
            readable, writable, _ = select.select(
                [wake, sock] if reading else [wake], writing, [], 0 if pending else 1.0
            )
        except (OSError, ValueError):  # the socket went between socket() and select()
            return
        if wake in readable:
            with contextlib.suppress(BlockingIOError):
                wake.recv(4096)
        if pending or sock in readable:
            self._client.loop_read()
        if sock in writable and self._client.socket() is sock:
            self._client.loop_write()
        if self._client.socket() is sock:
            self._client.loop_misc()  # the keepalive: PINGREQ when due, and a dead connection noticed
