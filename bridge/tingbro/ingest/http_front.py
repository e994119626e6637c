"""A lean HTTP/1.1 front on the bridge's port: serves `POST <ingest path>` itself, hands the rest to aiohttp.

One asyncio Protocol per connection and no task per request: a request is parsed from the buffer
(http_wire.py), judged by the shared rules (http_rules.py), and its events handed to the outbox; a
done-callback on the commit writes the answer. Keep-alive, HTTP/1.0 and pipelining (answers in request
order) are served here. Any request this front does not serve (another path or method, chunked bodies,
`Expect`, anything unusual) makes it hand the connection over, at that request's first byte, to aiohttp's
own request handler, after every earlier answer has been written; aiohttp then owns the connection.

Bounded: a request must arrive completely within `request_timeout_s` of its first byte (else 408 and close;
slow senders cannot hold a connection), a connection may have `MAX_PIPELINED` answers outstanding before
its reading pauses, and an idle connection is closed after `IDLE_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import quote

from tingbro.ingest.http_rules import Answer, Commit, IngestRules, commit_failure, error_answer
from tingbro.ingest.http_wire import (
    MAX_HEAD_BYTES,
    RequestHead,
    has_bare_newline,
    http_date,
    parse_head,
    response,
)

log = logging.getLogger("tingbro.ingest.http")

MAX_PIPELINED = 128            # outstanding answers per connection before it stops reading
HANDOVER_BUFFER_BYTES = 1 << 20  # bytes held for aiohttp while earlier answers are still pending
IDLE_TIMEOUT_S = 3630.0        # as aiohttp: longer than clients (and proxies) keep idle connections
SWEEP_EVERY_S = 1.0
HEAD_CACHE_SIZE = 512          # heads (and response bytes) remembered; cleared when full, so garbage cannot grow it


class HttpFront:
    """The listening socket, its connections, their timers, and the graceful stop."""

    def __init__(self, rules: IngestRules, request_timeout_s: float,
                 fallback: Callable[[], asyncio.Protocol]) -> None:
        self.rules = rules
        self.path = quote(rules.settings.path).encode("ascii")  # as it appears on the wire
        self.token_header = rules.settings.token_header.lower().encode("ascii")
        self.request_timeout_s = request_timeout_s
        self.fallback = fallback   # a protocol factory: aiohttp's Server (AppRunner.server)
        self.connections: set[FrontConnection] = set()
        self.server: asyncio.AbstractServer | None = None
        self.now = time.monotonic()
        self.date = http_date(time.time())
        self.sweeper: asyncio.TimerHandle | None = None
        self.emptied: asyncio.Future[None] | None = None
        self.stopping = False
        self.heads: dict[bytes, RequestHead] = {}  # heads that passed the checks (token, size, event name)
        # Requests waiting for one outbox commit, all answered by one done-callback on its (shared) future.
        self.waiting: dict[asyncio.Future[None], list[tuple[FrontConnection, list[bytes | None], Commit, RequestHead]]] = {}
        self.responses: dict[tuple[Answer, bool, bool], bytes] = {}  # response bytes, until the Date changes

    def passed(self, data: bytes, head: RequestHead) -> None:
        """Remember a head that passed the head checks: a client's heads repeat but for Content-Length, and
        the same bytes always parse and check alike (heads are never changed). Only heads with the right token
        are kept, and the lookup hashes the whole head with Python's keyed hash: a hit or miss tells a sender
        nothing about the token."""
        if len(self.heads) >= HEAD_CACHE_SIZE:
            self.heads.clear()
        self.heads[data] = head

    def response(self, answer: Answer, keep_alive: bool, http10: bool) -> bytes:
        """The response bytes; remembered, as the few answers of a second repeat (cleared with the Date)."""
        key = (answer, keep_alive, http10)
        data = self.responses.get(key)
        if data is None:
            data = response(answer[0], answer[1], keep_alive, http10, self.date)
            if len(self.responses) < HEAD_CACHE_SIZE:
                self.responses[key] = data
        return data

    def await_commit(self, commit: Commit, connection: FrontConnection, slot: list[bytes | None],
                     head: RequestHead) -> None:
        waiting = self.waiting.get(commit.future)
        if waiting is None:
            waiting = self.waiting[commit.future] = []
            commit.future.add_done_callback(self.committed)
        waiting.append((connection, slot, commit, head))

    def committed(self, future: asyncio.Future[None]) -> None:
        """Answer every request of one commit, then write each connection's ready answers once."""
        failure = commit_failure(future)
        rules = self.rules
        ready: dict[FrontConnection, None] = {}
        for connection, slot, commit, head in self.waiting.pop(future):
            if connection.transport is None:
                continue  # the client left; the events are stored (or not) all the same
            answer = rules.unavailable(failure) if failure is not None else rules.stored(commit.events, commit.letters)
            last = self.stopping and connection.answers[-1] is slot and connection.head is None
            slot[0] = self.response(answer, head.keep_alive and not last, head.http10)
            ready[connection] = None
        for connection in ready:
            connection.flush()
            connection.unblock()

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: FrontConnection(self), host, port, backlog=128)
        self.sweeper = loop.call_later(SWEEP_EVERY_S, self.sweep)
        return int(self.server.sockets[0].getsockname()[1])

    def sweep(self) -> None:
        """Once a second: refresh the clock and the Date header, and end connections past their deadline."""
        self.now = time.monotonic()
        self.date = http_date(time.time())
        self.responses.clear()
        for connection in [c for c in self.connections if c.deadline and c.deadline < self.now]:
            connection.timed_out()
        self.sweeper = asyncio.get_running_loop().call_later(SWEEP_EVERY_S, self.sweep)

    async def stop(self, timeout_s: float) -> None:
        """Stop accepting, answer the requests in flight, close; connections left after `timeout_s` are cut."""
        self.stopping = True
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.stop()
        if self.connections:
            self.emptied = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self.emptied), timeout_s)
            except TimeoutError:
                log.warning("http connections cut at shutdown", extra={"connections": len(self.connections)})
                for connection in list(self.connections):
                    connection.abort()
        if self.sweeper is not None:
            self.sweeper.cancel()
        if self.server is not None:
            await self.server.wait_closed()

    def forget(self, connection: FrontConnection) -> None:
        self.connections.discard(connection)
        if not self.connections and self.emptied is not None and not self.emptied.done():
            self.emptied.set_result(None)


class FrontConnection(asyncio.Protocol):
    def __init__(self, front: HttpFront) -> None:
        self.front = front
        self.rules = front.rules
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head: RequestHead | None = None   # a request whose body is still arriving
        self.discard = 0                       # body bytes to skip: that request was answered from its head
        self.answers: deque[list[bytes | None]] = deque()  # in request order; [None] until its commit is done
        self.closing = False                   # take no further request; close once the answers are written
        self.handing_over = False              # the buffer starts with a request for aiohttp
        self.deadline = 0.0                    # monotonic; 0: none
        self.receiving = False                 # a request is partly received: `deadline` is its time limit
        self.reading_paused = False
        self.writing_paused = False

    # -- asyncio.Protocol --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.front.connections.add(self)
        self.deadline = self.front.now + IDLE_TIMEOUT_S
        if self.front.stopping:
            self.stop()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.answers.clear()
        self.front.forget(self)

    def data_received(self, data: bytes) -> None:
        if self.closing and not self.discard and self.head is None:
            return  # the last request was read: ignore whatever follows
        if self.handing_over:
            self.buffer += data
            if len(self.buffer) > HANDOVER_BUFFER_BYTES:
                self.pause_reading()
            return
        if self.buffer:
            self.buffer += data
            self.process(self.buffer)
            return
        if self.head is None and not self.discard and not self.closing and not self.writing_paused \
                and len(self.answers) < MAX_PIPELINED:
            # The usual read: exactly one request whose head passed the checks before (see process()).
            end = data.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES + 4)
            if end > 0:
                head = self.front.heads.get(data[:end])
                if head is not None and len(data) == end + 4 + head.content_length:
                    self.receiving = False
                    self.serve(head, data[end + 4:])
                    self.flush()
                    return
        self.process(data)  # parsed in place, without a copy into the buffer

    def eof_received(self) -> bool:
        self.closing = True
        self.head, self.discard = None, 0  # a request cut short is not a request
        if not self.handing_over:
            self.buffer.clear()
        self.flush()
        return self.transport is not None and not self.transport.is_closing()

    def pause_writing(self) -> None:
        self.writing_paused = True
        self.pause_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        self.flush()
        self.unblock()

    # -- requests ----------------------------------------------------------------------------------
    def process(self, buffer: bytes | bytearray) -> None:
        """Serve every complete request in `buffer` (self.buffer, or a read that arrived with it empty); keep the
        rest in self.buffer for the next read."""
        position = 0
        rules = self.rules
        while not self.closing or self.head is not None or self.discard:
            available = len(buffer) - position
            if not available:
                break
            if self.discard:
                skipped = min(self.discard, available)
                position += skipped
                self.discard -= skipped
                if self.discard:
                    break
                continue
            head = self.head
            if head is None:
                if len(self.answers) >= MAX_PIPELINED or self.writing_paused:
                    self.pause_reading()
                    break
                end = buffer.find(b"\r\n\r\n", position, position + MAX_HEAD_BYTES + 4)
                if end < 0:
                    if available > MAX_HEAD_BYTES or has_bare_newline(buffer[position:]):
                        self.hand_over(buffer, position)
                        return
                    break
                data = bytes(buffer[position:end])
                head = self.front.heads.get(data)
                if head is None:  # not seen lately, or refused: parse and check it
                    head = parse_head(data, self.front.path, self.front.token_header)
                    if head is None:
                        self.hand_over(buffer, position)
                        return
                    refused = rules.check_head(head.token, head.content_length, head.event_name)
                    if refused is not None:
                        position = end + 4
                        self.discard = head.content_length  # answer now, skip what arrives of the body
                        self.answer(refused, head, head.content_length <= rules.limit)  # (413: then close)
                        continue
                    self.front.passed(data, head)
                position = end + 4
                self.head = head
                available = len(buffer) - position
            if available < head.content_length:
                break
            body = bytes(buffer[position:position + head.content_length])
            position += head.content_length
            self.head = None
            self.serve(head, body)
        if position:
            self.receiving = False  # a request completed: whatever follows is a new one, with its own deadline
        if self.closing and self.head is None and not self.discard:
            self.buffer.clear()
        else:
            self.keep(buffer, position)
        self.flush()

    def serve(self, head: RequestHead, body: bytes) -> None:
        """A whole request that passed the head checks: its events go to the outbox; answered once committed."""
        outcome = self.rules.take(head.event_name, body, head.content_type)
        if outcome.__class__ is Commit:
            slot: list[bytes | None] = [None]
            self.answers.append(slot)
            self.front.await_commit(outcome, self, slot, head)  # type: ignore[arg-type]
            if not head.keep_alive:
                self.closing = True
        else:
            self.answer(outcome, head)  # type: ignore[arg-type]

    def keep(self, buffer: bytes | bytearray, position: int) -> None:
        """Leave `buffer` from `position` on in self.buffer."""
        if buffer is self.buffer:
            del self.buffer[:position]
        elif position < len(buffer):
            self.buffer += memoryview(buffer)[position:]

    def answer(self, answer: Answer, head: RequestHead, may_keep_alive: bool = True) -> None:
        if not (head.keep_alive and may_keep_alive):
            self.closing = True
        keep_alive = head.keep_alive and may_keep_alive and not (self.front.stopping and self.head is None)
        self.answers.append([self.front.response(answer, keep_alive, head.http10)])

    def flush(self) -> None:
        """Write the answers that are ready, in request order; then close, hand over or re-arm the timer."""
        answers = self.answers
        transport = self.transport
        if transport is None:
            return
        if answers and answers[0][0] is not None:
            ready = []
            while answers and answers[0][0] is not None:
                ready.append(answers.popleft()[0])
            transport.write(ready[0] if len(ready) == 1 else b"".join(ready))  # type: ignore[arg-type]
        partial_request = bool(self.buffer) or self.head is not None or self.discard > 0
        if partial_request:
            if not self.receiving:  # a request started: it has request_timeout_s to arrive, however slowly
                self.receiving = True
                self.deadline = time.monotonic() + self.front.request_timeout_s  # front.now may be a second old
        else:
            self.receiving = False
            self.deadline = 0.0 if answers else self.front.now + IDLE_TIMEOUT_S
        if answers:
            return
        if self.handing_over:
            if not self.writing_paused:
                self.give_to_aiohttp()
        elif self.closing and not partial_request:
            transport.close()

    def unblock(self) -> None:
        """Read on once enough answers are out (reading pauses at MAX_PIPELINED or while writing is paused)."""
        if self.reading_paused and not self.writing_paused and not self.handing_over \
                and len(self.answers) < MAX_PIPELINED // 2:
            self.resume_reading()
            self.process(self.buffer)

    def hand_over(self, buffer: bytes | bytearray, position: int) -> None:
        """The request at `position` is for aiohttp: stop parsing; hand over once earlier answers are out."""
        self.keep(buffer, position)
        self.handing_over = True
        self.receiving = True  # aiohttp's timers take over; no deadline of ours meanwhile
        self.deadline = 0.0
        self.flush()

    def give_to_aiohttp(self) -> None:
        transport = self.transport
        assert transport is not None
        handler = self.front.fallback()
        self.transport = None
        self.front.forget(self)
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self.reading_paused:
            transport.resume_reading()
        data, self.buffer = bytes(self.buffer), bytearray()
        if data:
            handler.data_received(data)
        if self.closing:  # the peer sent EOF: aiohttp answers what it has, then closes
            close = getattr(handler, "close", None)
            if close is not None:
                close()

    # -- limits and shutdown -----------------------------------------------------------------------
    def timed_out(self) -> None:
        transport = self.transport
        if transport is None:
            return
        if self.receiving and not self.closing:
            log.warning("http request incomplete after timeout", extra={"timeout_s": self.front.request_timeout_s})
            self.closing = True
            self.head, self.discard = None, 0
            self.buffer.clear()
            self.answers.append([response(*error_answer(408, "request not received in time"), False, False,
                                          self.front.date)])
            self.flush()
            self.deadline = self.front.now + self.front.request_timeout_s  # for a client that does not read
        elif transport.is_closing():
            transport.abort()
        else:  # idle, or a rejected body still trickling in
            self.head, self.discard = None, 0
            transport.close()
            self.deadline = self.front.now + self.front.request_timeout_s

    def stop(self) -> None:
        """Shutdown: finish the request being received and the answers outstanding, then close."""
        self.closing = True
        self.handing_over = False
        if self.head is None and not self.discard:
            self.buffer.clear()
        self.flush()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()
