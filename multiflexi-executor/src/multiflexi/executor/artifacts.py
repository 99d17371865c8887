"""A job's artifacts are masked like its output before they are stored.

A text artifact (UTF-8 without NUL bytes) has every secret value of the job replaced by the
placeholder, with the masking its output lines get (multiflexi-core's
``environment``): a secret is never stored, so never downloaded, in clear. An
artifact kept inline is masked whole; a bigger one is masked while it is copied,
in blocks, keeping back at each block's end as much text as the longest secret
could still need. A binary artifact (not UTF-8, or with a NUL byte) is stored as
it is.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from multiflexi.core.environment import JobEnvironment, mask_pieces, mask_runs, secret_runs

BLOCK = 1 << 20


def masked(data: bytes, environment: JobEnvironment | None) -> bytes:
    """``data`` with the job's secrets masked when it is text; else ``data`` itself."""
    if environment is None or not environment.secrets():
        return data
    if b"\0" in data:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return environment.mask(text).encode("utf-8")


def mask_stream(chunks: Iterable[str], pieces: Sequence[str]) -> Iterator[str]:
    """The text of ``chunks`` with every occurrence of a piece masked, piece by piece."""
    keep = max((len(p) for p in pieces), default=1) - 1
    pending = ""
    for chunk in chunks:
        pending += chunk
        if len(pending) <= keep:
            continue
        runs = secret_runs(pending, pieces)
        cut = len(pending) - keep  # an occurrence starting before the cut is all here
        for start, stop in runs:
            if start < cut < stop:  # the cut is never inside an occurrence
                cut = start
                break
        yield mask_runs(pending[:cut], [r for r in runs if r[1] <= cut])
        pending = pending[cut:]
    yield mask_runs(pending, secret_runs(pending, pieces))


def copy(
    source: Path,
    target: Path,
    environment: JobEnvironment | None,
    tick: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Copy ``source`` to ``target``, masked when it is text; (size, sha256) of the copy.

    ``tick`` is called after each block (the runner renews the job's lease there).
    """
    secrets = environment.secrets() if environment is not None else []
    if secrets:
        try:
            return _write(target, _masked_blocks(source, mask_pieces(secrets), tick))
        except (UnicodeDecodeError, _Binary):
            pass  # binary: copied as it is, from the start
    return _write(target, _blocks(source, tick))


class _Binary(Exception):
    """The file has a NUL byte: not text."""


def _blocks(source: Path, tick: Callable[[], None]) -> Iterator[bytes]:
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            yield block
            tick()


def _masked_blocks(
    source: Path, pieces: Sequence[str], tick: Callable[[], None]
) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")

    def texts() -> Iterator[str]:
        for block in _blocks(source, tick):
            if b"\0" in block:
                raise _Binary
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)

    for text in mask_stream(texts(), pieces):
        if text:
            yield text.encode("utf-8")


def _write(target: Path, blocks: Iterable[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as copy:
        for block in blocks:
            copy.write(block)
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


__all__ = ["copy", "mask_stream", "masked"]
