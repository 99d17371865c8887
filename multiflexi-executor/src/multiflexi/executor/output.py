"""A job's output: bytes -> masked lines -> batches in the database and on Redis.

Memory stays bounded whatever the job prints: a stream is decoded
incrementally, a line longer than MAX_LINE characters is stored in pieces
(never cutting through a secret, so masking still sees it whole), and lines
are written in batches of at most BATCH_LINES lines or BATCH_BYTES bytes, or
after BATCH_SECONDS. Every line is masked (each secret value of the job
becomes ``***``) before it is stored, published or echoed.

Live tail: each stored batch is also published as one JSON message on the
Redis channel ``multiflexi:job:<id>:output``::

    {"job_id": 7, "lines": [{"seq": 1, "stream": "stdout", "text": "..."}]}

and the end of the job as ``{"job_id": 7, "end": true, "state": "success",
"exit_code": 0}``. Publishing is best effort: a Redis failure turns it off for
the rest of the job and never fails the job.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from multiflexi.executor import defaults

if TYPE_CHECKING:
    from redis import Redis

Mask = Callable[[str], str]
Store = Callable[[int, list[tuple[str, str]]], int]
Echo = Callable[[str, str], None]


def secret_pieces(secrets: Iterable[str]) -> list[str]:
    """The texts masking looks for: each secret, and each line of a multi-line secret."""
    pieces: set[str] = set()
    for value in secrets:
        pieces.add(value)
        pieces.update(line.strip("\r") for line in value.splitlines() if line.strip())
    return sorted((p for p in pieces if p), key=len, reverse=True)


class LineSplitter:
    """Bytes of one stream in, masked lines out."""

    def __init__(self, mask: Mask, secrets: Iterable[str] = (), max_line: int = defaults.MAX_LINE):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._mask = mask
        self._pieces = secret_pieces(secrets)
        self._max_line = max_line

    def feed(self, data: bytes) -> list[str]:
        text = self._pending + self._decoder.decode(data)
        parts = text.split("\n")
        self._pending = parts.pop()
        lines = [self._mask(part.removesuffix("\r")) for part in parts]
        while len(self._pending) > self._max_line:
            cut = self._safe_cut(self._pending, self._max_line)
            lines.append(self._mask(self._pending[:cut]))
            self._pending = self._pending[cut:]
        return lines

    def finish(self) -> list[str]:
        """The last line, when the stream ended without a newline."""
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        lines = []
        for part in rest.split("\n"):
            if part:
                lines.append(self._mask(part.removesuffix("\r")))
        return lines

    def _safe_cut(self, text: str, cut: int) -> int:
        """A cut at or before ``cut`` through no secret (after one, if it starts at 0)."""
        moved = True
        while moved:
            moved = False
            for piece in self._pieces:
                size = len(piece)
                start = text.find(piece, max(0, cut - size + 1), cut + size - 1)
                while start != -1 and start < cut:
                    if start + size > cut:
                        cut = start if start > 0 else start + size
                        moved = True
                        break
                    start = text.find(piece, start + 1, cut + size - 1)
        return cut


class Publisher:
    """Best-effort live publishing of a job's lines on Redis."""

    def __init__(self, redis: Redis | None, job_id: int):
        self._redis = redis
        self._job_id = job_id
        self.channel = defaults.OUTPUT_CHANNEL.format(job_id=job_id)

    def send(self, message: dict[str, Any]) -> None:
        if self._redis is None:
            return
        try:
            self._redis.publish(self.channel, json.dumps({"job_id": self._job_id, **message}))
        except Exception:
            self._redis = None


class OutputSink:
    """Collects masked lines, numbers them and stores them in batches."""

    def __init__(
        self,
        store: Store,
        *,
        first_seq: int = 1,
        publisher: Publisher | None = None,
        echo: Echo | None = None,
        batch_lines: int = defaults.BATCH_LINES,
        batch_bytes: int = defaults.BATCH_BYTES,
        batch_seconds: float = defaults.BATCH_SECONDS,
    ):
        self._store = store
        self._seq = first_seq
        self._publisher = publisher
        self._echo = echo
        self._batch: list[tuple[str, str]] = []
        self._bytes = 0
        self._since = time.monotonic()
        self._limits = (batch_lines, batch_bytes, batch_seconds)
        self.lines = 0

    def add(self, stream: str, text: str) -> None:
        if not self._batch:
            self._since = time.monotonic()
        self._batch.append((stream, text))
        self._bytes += len(text)
        self.lines += 1
        if self._echo is not None:
            self._echo(stream, text)
        if len(self._batch) >= self._limits[0] or self._bytes >= self._limits[1]:
            self.flush()

    def add_all(self, stream: str, texts: Iterable[str]) -> None:
        for text in texts:
            self.add(stream, text)

    def due(self) -> bool:
        return bool(self._batch) and time.monotonic() - self._since >= self._limits[2]

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch, self._bytes = self._batch, [], 0
        first = self._seq
        self._seq = self._store(first, batch)
        if self._publisher is not None:
            self._publisher.send(
                {
                    "lines": [
                        {"seq": first + i, "stream": stream, "text": text}
                        for i, (stream, text) in enumerate(batch)
                    ]
                }
            )
