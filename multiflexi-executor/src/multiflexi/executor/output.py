"""A job's output: bytes -> masked lines -> batches in the database and on Redis.

Memory stays bounded whatever the job prints: a stream is decoded
incrementally, a line longer than MAX_LINE characters is stored in pieces
(never cutting through a secret, so masking still sees it whole), and lines
are written in batches of at most BATCH_LINES lines or BATCH_BYTES bytes, or
after BATCH_SECONDS. Every line is masked (each secret value of the job
becomes ``***``) before it is stored, published or echoed.

Live tail: each stored batch is also published as one JSON message on the
Redis channel ``multiflexi:job:<id>:output`` (``multiflexi.core.output.OUTPUT_CHANNEL``)::

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

from multiflexi.core.environment import mask_pieces, mask_runs, secret_runs
from multiflexi.core.output import channel
from multiflexi.executor import defaults

if TYPE_CHECKING:
    from redis import Redis

Mask = Callable[[str], str]
Store = Callable[[int, list[tuple[str, str]]], int]
Echo = Callable[[str, str], None]


class LineSplitter:
    """Bytes of one stream in, masked lines out.

    A line longer than ``max_line`` is given out in pieces of at most ``max_line``
    characters, cut where no secret is (so masking sees each occurrence whole). The
    text around a cut is only looked at once enough of it has arrived to hold the
    longest secret. When secret text reaches from a piece's start past its end (a
    long run of overlapping or adjacent occurrences), the piece is only the
    placeholder and the rest of the run is remembered as masked for the next piece.
    """

    def __init__(self, mask: Mask, secrets: Iterable[str] = (), max_line: int = defaults.MAX_LINE):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._mask = mask
        self._pieces = mask_pieces(secrets)
        self._max_line = max_line
        self._lookahead = max((len(p) for p in self._pieces), default=1) - 1
        #: the first characters of _pending that continue a secret cut by the last piece
        self._covered = 0

    def feed(self, data: bytes) -> list[str]:
        *whole, rest = (self._pending + self._decoder.decode(data)).split("\n")
        lines: list[str] = []
        for part in whole:
            lines.extend(self._whole(part.removesuffix("\r")))
        while len(rest) > self._max_line + self._lookahead:  # the text past the cut is here
            piece, rest = self._cut(rest)
            lines.append(piece)
        self._pending = rest
        return lines

    def finish(self) -> list[str]:
        """The last line, when the stream ended without a newline."""
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        lines: list[str] = []
        for part in rest.split("\n"):
            if part:
                lines.extend(self._whole(part.removesuffix("\r")))
        return lines

    def _whole(self, text: str) -> list[str]:
        """The masked pieces of a line that has ended."""
        lines = []
        while len(text) > self._max_line:
            piece, text = self._cut(text)
            lines.append(piece)
        if self._covered:
            covered, self._covered = self._covered, 0
            lines.append(mask_runs(text, secret_runs(text, self._pieces, covered)))
        else:
            lines.append(self._mask(text))
        return lines

    def _cut(self, text: str) -> tuple[str, str]:
        """The first piece of an over-long text, masked, and the rest."""
        runs = secret_runs(text[: self._max_line + self._lookahead], self._pieces, self._covered)
        cut = self._max_line
        carry = 0
        for start, stop in runs:
            if start >= cut:
                break
            if stop > cut:  # the cut would go through a secret
                if start > 0:
                    cut = start
                else:
                    carry = stop - cut
                break
        self._covered = carry
        return mask_runs(text[:cut], runs), text[cut:]


class Publisher:
    """Best-effort live publishing of a job's lines on Redis."""

    def __init__(self, redis: Redis | None, job_id: int):
        self._redis = redis
        self._job_id = job_id
        self.channel = channel(job_id)

    def send(self, message: dict[str, Any], later: list[tuple[str, str]] | None = None) -> None:
        """Publish the message now, or put it on ``later`` for whoever publishes that list."""
        if self._redis is None:
            return
        payload = json.dumps({"job_id": self._job_id, **message})
        if later is not None:
            later.append((self.channel, payload))
            return
        try:
            self._redis.publish(self.channel, payload)
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
