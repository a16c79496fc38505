"""A small TCP load balancer for tests: one address in front of several server processes, as a
production proxy gives the clients one URL.

Each accepted connection goes to the next backend in turn (round robin), or to the one the test
pinned with ``pin(index)``; a backend that refuses the connection (a dead process) is skipped,
so the connection goes to the next live one. Bytes are copied both ways unchanged; when either
side closes, so does the other, as a real proxy does when a backend dies under a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from tests.support.server import free_port

BUFFER = 65536


class TcpProxy:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.port = free_port()
        #: The backend index of every connection made, in order.
        self.routed: list[int] = []
        self._next = 0
        self._pinned: int | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    @contextlib.contextmanager
    def pin(self, index: int) -> Iterator[None]:
        """New connections go to backend ``index`` (while it accepts them) inside the block."""
        self._pinned = index
        try:
            yield
        finally:
            self._pinned = None

    def _order(self) -> list[int]:
        count = len(self.backends)
        if self._pinned is not None:
            first = self._pinned
        else:
            first = self._next
            self._next = (self._next + 1) % count
        return [(first + offset) % count for offset in range(count)]

    async def _connect_backend(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        for index in self._order():
            host, port = self.backends[index]
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                continue  # refused: that process is down, try the next one
            return index, reader, writer
        return None

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(client_writer)
        backend_writer: asyncio.StreamWriter | None = None
        try:
            found = await self._connect_backend()
            if found is None:
                return
            index, backend_reader, backend_writer = found
            self._writers.add(backend_writer)
            self.routed.append(index)
            await asyncio.gather(
                self._copy(client_reader, backend_writer, client_writer),
                self._copy(backend_reader, client_writer, backend_writer),
            )
        finally:
            for writer in (client_writer, backend_writer):
                if writer is not None:
                    writer.close()
                    self._writers.discard(writer)
            self._tasks.discard(task)

    @staticmethod
    async def _copy(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, other: asyncio.StreamWriter
    ) -> None:
        """Copy until EOF or an error on either side, then close both sides."""
        try:
            while data := await reader.read(BUFFER):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            other.close()
