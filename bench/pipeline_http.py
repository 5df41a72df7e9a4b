"""The two ends of bench/pipeline.py's HTTP: a lean load generator and a cheap robot receiver.

Both share the machine's two cores with what is measured, so both are raw asyncio over
HTTP/1.1 keep-alive: no HTTP library per request, no parsing beyond the status line, the
Content-Length and the Connection header.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import socket
import time
from dataclasses import dataclass

# What a WeCom group robot answers when it took the message.
ROBOT_OK = b'{"errcode":0,"errmsg":"ok"}'
_ROBOT_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ROBOT_OK)).encode()
    + b"\r\n\r\n"
    + ROBOT_OK
)
# Every bench event carries a note "bench<n>"; the receiver finds them in the pushed text.
TOKEN = re.compile(rb"bench(\d+)")


def request_bytes(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# The load generator


@dataclass
class Answer:
    index: int
    status: int
    sent_at: float  # time.time() when the request was written
    seconds: float  # until the whole response was read
    body: bytes  # kept for failures only


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    body = await reader.readexactly(length) if length else b""
    return status, close, body


async def _connection(host, port, requests, next_index, answers, start, rate) -> None:
    reader = writer = None
    while True:
        index = next_index[0]
        if index >= len(requests):
            break
        next_index[0] += 1
        if rate:  # open loop: request i is due at start + i / rate
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        sent_at, began = time.time(), time.perf_counter()
        writer.write(requests[index])
        status, close, body = await _read_response(reader)
        answers.append(
            Answer(
                index, status, sent_at, time.perf_counter() - began, b"" if status < 300 else body
            )
        )
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _send_all(host, port, requests, connections, rate) -> list[Answer]:
    answers: list[Answer] = []
    next_index = [0]
    start = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(host, port, requests, next_index, answers, start, rate)
            for _ in range(connections)
        )
    )
    return answers


def send_all(
    host: str, port: int, requests: list[bytes], *, connections: int, rate: float | None = None
) -> tuple[list[Answer], float]:
    """Send the pre-built requests over `connections` keep-alive connections, as fast as they
    are answered (closed loop) or, given `rate`, request i at i/rate seconds (open loop).
    Returns the answers (in the order they came) and the seconds it all took."""
    began = time.perf_counter()
    answers = asyncio.run(_send_all(host, port, requests, connections, rate))
    return answers, time.perf_counter() - began


# The robot receiver


class _RobotProtocol(asyncio.Protocol):
    def __init__(self, arrivals: list):
        self.arrivals = arrivals
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length, at = 0, head.find(b"content-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else None])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.arrivals.append((time.time(), [int(t) for t in TOKEN.findall(body)]))
            self.transport.write(_ROBOT_RESPONSE)


def _serve(sock: socket.socket, control) -> None:
    arrivals: list[tuple[float, list[int]]] = []

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _RobotProtocol(arrivals), sock=sock)
        stopped = loop.create_future()

        def on_command():
            command = control.recv()
            if command == "count":
                control.send(sum(len(tokens) for _, tokens in arrivals))
            elif command == "take":  # hand over what arrived, and start again
                control.send(list(arrivals))
                arrivals.clear()
            elif command == "stop":
                stopped.set_result(None)

        loop.add_reader(control.fileno(), on_command)
        async with server:
            await stopped

    asyncio.run(main())


class RobotReceiver:
    """A WeCom-robot stand-in on 127.0.0.1, in a process of its own: it answers every POST
    `{"errcode":0,"errmsg":"ok"}` and keeps (arrival time, bench tokens in the body)."""

    def __init__(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/cgi-bin/webhook/send?key=bench"
        self._control, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve, args=(sock, theirs), daemon=True
        )
        self.process.start()
        sock.close()

    def count(self) -> int:
        """Notifications arrived since the last take (a push may carry several)."""
        self._control.send("count")
        return self._control.recv()

    def take(self) -> list[tuple[float, list[int]]]:
        self._control.send("take")
        return self._control.recv()

    def wait_for(self, count: int, *, stall_seconds: float, poll: float = 0.05) -> float:
        """Wait until `count` notifications arrived or none came for `stall_seconds`; returns
        when the last one seen arrived (time.time())."""
        seen, last_change = -1, time.time()
        while True:
            now_count = self.count()
            if now_count != seen:
                seen, last_change = now_count, time.time()
            if seen >= count or time.time() - last_change > stall_seconds:
                return last_change
            time.sleep(poll)

    def close(self) -> None:
        self._control.send("stop")
        self.process.join(5)
