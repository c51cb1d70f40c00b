"""Independent random streams, one per mechanism, all derived from the model's generator.

Every random number in relsim comes from the model's seed. Each mechanism draws from its own
stream, spawned from the model generator's :class:`numpy.random.SeedSequence` with a key derived
from the stream's *name* (as Starsim does): switching a mechanism on or off, or adding a new one,
does not shift the numbers any other mechanism draws. Paired runs (same seed, one thing changed)
then differ only through the thing changed, which is what makes them informative.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The mechanisms that draw random numbers; each gets its own stream.
STREAM_NAMES: tuple[str, ...] = (
    "setup",
    "pressure",
    "problems",
    "disclosure",
    "response",
    "surprises",
    "attendance",
    "board",
    "showcase",
    "repair",
    "peer_contact",
    "adoption",
    "abandonment",
    "convener",
    "national",
)


def _key(name: str) -> int:
    """A stable 32-bit key for a stream name (stable across runs, machines and versions)."""
    return zlib.crc32(name.encode())


class Streams:
    """Named, independent random generators derived from one root generator.

    Each stream is an attribute, e.g. ``streams.pressure.normal()``.
    """

    setup: np.random.Generator
    pressure: np.random.Generator
    problems: np.random.Generator
    disclosure: np.random.Generator
    response: np.random.Generator
    surprises: np.random.Generator
    attendance: np.random.Generator
    board: np.random.Generator
    showcase: np.random.Generator
    repair: np.random.Generator
    peer_contact: np.random.Generator
    adoption: np.random.Generator
    abandonment: np.random.Generator
    convener: np.random.Generator
    """The regulator's meetings with the chairs of regional boards (lead organisations and
    network administrative organisations)."""
    national: np.random.Generator
    """Meetings of the national learning network."""

    def __init__(self, root: np.random.Generator, names: tuple[str, ...] = STREAM_NAMES) -> None:
        seed_seq = root.bit_generator.seed_seq
        if not isinstance(seed_seq, np.random.SeedSequence):  # pragma: no cover
            # A generator built without a SeedSequence: seed one from it, reproducibly.
            seed_seq = np.random.SeedSequence(int(root.integers(2**63)))
        self._seed_seq = seed_seq
        self._bit_generator = type(root.bit_generator)
        self._names = frozenset(names)

    def __getattr__(self, name: str) -> np.random.Generator:
        # Called only for a stream not made yet: a stream is a function of the seed and its name
        # alone, so making it on first use gives the numbers making it up front would, and a
        # run does not pay for the streams of mechanisms it never uses.
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"{type(self).__name__!r} has no stream {name!r}")
        seed_seq = self._seed_seq
        child = np.random.SeedSequence(
            entropy=seed_seq.entropy,
            spawn_key=(*seed_seq.spawn_key, _key(name)),
            pool_size=seed_seq.pool_size,
        )
        stream = np.random.Generator(self._bit_generator(child))
        setattr(self, name, stream)
        return stream


# ---------------------------------------------------------------------------------------------
# Draws on small arrays
# ---------------------------------------------------------------------------------------------

#: Arrays up to this size are drawn element by element. NumPy's array calls check their
#: arguments with whole-array reductions that cost a few microseconds, more than the draws for
#: a handful of trusts; scalar calls run the same sampler on the same stream, so both ways give
#: exactly the same numbers (tests/test_streams.py).
SMALL = 32


def binomial(
    stream: np.random.Generator, counts: NDArray[np.integer[Any]], p: float | NDArray[Any]
) -> NDArray[np.int64]:
    """``stream.binomial(counts, p)`` for a 1-d array of counts, fast for small arrays.

    A zero count draws nothing (as in NumPy), so quiet months leave the stream untouched.
    """
    if counts.size > SMALL:
        if not np.count_nonzero(counts):
            return np.zeros(counts.shape, dtype=np.int64)
        return stream.binomial(counts, p).astype(np.int64, copy=False)
    draw = stream.binomial
    ks = counts.tolist()
    if isinstance(p, float):
        return np.array([draw(k, p) if k else 0 for k in ks], dtype=np.int64)
    return np.array(
        [draw(k, q) if k else 0 for k, q in zip(ks, p.tolist(), strict=True)], dtype=np.int64
    )


def poisson(stream: np.random.Generator, lam: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """``stream.poisson(lam)`` for a 1-d array of rates, fast for small arrays."""
    if lam.size > SMALL:
        return stream.poisson(lam).astype(np.int64, copy=False)
    draw = stream.poisson
    return np.array([draw(x) for x in lam.tolist()], dtype=np.int64)
