"""Output line splitting: over-long lines are cut in pieces without ever showing a secret."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator

import pytest

from multiflexi.core.environment import PLACEHOLDER, Entry, JobEnvironment
from multiflexi.executor.output import LineSplitter


def _splitter(secrets: list[str], max_line: int) -> LineSplitter:
    environment = JobEnvironment(
        tuple(
            Entry(f"S{i}", value, secret=True, source="runtemplate")
            for i, value in enumerate(secrets)
        )
    )
    return LineSplitter(environment.mask, environment.secrets(), max_line=max_line)


def _run(splitter: LineSplitter, chunks: list[bytes]) -> list[str]:
    lines: list[str] = []
    for chunk in chunks:
        lines.extend(splitter.feed(chunk))
    lines.extend(splitter.finish())
    return lines


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """A splitter that loops for ever fails the test instead of hanging the suite."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("the line splitter did not return")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_secret_that_overlaps_itself_in_a_long_line_is_masked_and_the_splitter_returns():
    # every character of the line belongs to an occurrence of "abab"
    lines = _run(_splitter(["abab"], 1000), [b"ab" * 500] * 40)
    assert lines
    assert set(lines) == {PLACEHOLDER}


def test_a_secret_arriving_in_two_reads_around_the_cut_is_never_split():
    splitter = _splitter(["PASSWORD123"], 12)
    lines = _run(splitter, [b"x" * 8 + b"PASSWO", b"RD123" + b"y" * 30 + b"\n"])
    joined = "".join(lines)
    assert "SSWORD" not in joined and "RD123" not in joined and "PASSWO" not in joined
    assert joined == "x" * 8 + PLACEHOLDER + "y" * 30


def test_a_secret_longer_than_a_piece_shows_no_part_of_itself():
    lines = _run(_splitter(["SECRETVALUE"], 4), [b"xx" + b"SECRETVALUE" + b"yyyyyyyy\n"])
    joined = "".join(lines)
    for size in range(2, 12):
        for start in range(0, 12 - size):
            assert "SECRETVALUE"[start : start + size] not in joined
    assert joined.replace(PLACEHOLDER, "") == "xx" + "yyyyyyyy"


def test_a_long_line_is_kept_whole_and_in_order_with_its_secret_masked():
    text = "x" * 25 + "SECRET" + "y" * 25
    lines = _run(_splitter(["SECRET"], 10), [text.encode()[i : i + 7] for i in range(0, 56, 7)])
    assert "".join(lines) == "x" * 25 + PLACEHOLDER + "y" * 25
    assert all(len(line) <= 10 for line in lines if PLACEHOLDER not in line)


def test_a_line_without_secrets_is_cut_at_the_limit():
    lines = _run(_splitter([], 10), [b"z" * 35, b"\nnext\n"])
    assert lines == ["z" * 10, "z" * 10, "z" * 10, "z" * 5, "next"]


def test_no_character_of_a_secret_ever_escapes_whatever_the_cuts_and_reads():
    """Secrets of letters a and b, filler c: any a or b given out is a leak."""
    rng = random.Random(20261127)
    for _ in range(400):
        secrets = [
            "".join(rng.choice("ab") for _ in range(rng.randint(1, 9)))
            for _ in range(rng.randint(1, 3))
        ]
        words = [rng.choice(secrets) if rng.random() < 0.6 else "c" * rng.randint(1, 5)]
        while sum(map(len, words)) < rng.randint(1, 300):
            words.append(rng.choice(secrets) if rng.random() < 0.6 else "c" * rng.randint(1, 5))
            if rng.random() < 0.05:
                words.append("\n")
        data = "".join(words).encode()
        chunks: list[bytes] = []
        index = 0
        while index < len(data):
            size = rng.randint(1, 40)
            chunks.append(data[index : index + size])
            index += size
        lines = _run(_splitter(secrets, rng.randint(1, 20)), chunks)
        shown = "".join(lines)
        assert not set(shown) & {"a", "b"}, (secrets, data, lines)
        assert shown.count("c") == data.count(b"c")
