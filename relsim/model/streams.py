"""Independent random streams, one per mechanism, all derived from the model's generator.

Every random number in relsim comes from the model's seed. Each mechanism draws from its own
stream, spawned from the model generator's :class:`numpy.random.SeedSequence` with a key derived
from the stream's *name* (as Starsim does): switching a mechanism on or off, or adding a new one,
does not shift the numbers any other mechanism draws. Paired runs (same seed, one thing changed)
then differ only through the thing changed, which is what makes them informative.

The monthly steps (:mod:`relsim.model.kernel`) draw through one interface, :class:`Draws`, whose
two implementations sit side by side here: :class:`RunDraws` gives one run's numbers from its
:class:`Streams`, shaped as asked; :class:`BatchDraws` gives R replications' numbers, each from
that replication's own streams in the same order, with a leading replication axis. Replication r
of a batch therefore draws exactly what a run with r's seed draws.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

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
    "compact",
    "regulator_time",
    "turnover",
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
    compact: np.random.Generator
    """Agreement of the compact's categories of commitments at meetings."""
    regulator_time: np.random.Generator
    """Whether the regulator's limited time lets it attend a board's meeting."""
    turnover: np.random.Generator
    """Changes of chief executives and of the regulator's people."""

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


# ---------------------------------------------------------------------------------------------
# The draws interface of the monthly steps: one run, or a batch of replications
# ---------------------------------------------------------------------------------------------


class Stream(Protocol):
    """One mechanism's draws, with the driver's leading axes (none for one run, R for a batch)."""

    def random(self, shape: tuple[int, ...] = ()) -> NDArray[np.float64]:
        """Uniforms on [0, 1), shaped ``(*lead, *shape)``."""
        ...

    def standard_normal(self) -> NDArray[np.float64] | float:
        """One standard normal per run, shaped ``lead``."""
        ...

    def binomial(
        self, counts: NDArray[np.integer[Any]], p: float | NDArray[Any]
    ) -> NDArray[np.int64]:
        """``binomial(counts, p)`` over ``(*lead, n)`` counts; ``p`` broadcasts to ``counts``."""
        ...

    def poisson(self, lam: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
        """``poisson(lam)`` over ``(*lead, n)`` rates."""
        ...


class RunStream:
    """One run's stream: draws shaped as asked, as :class:`numpy.random.Generator` gives them."""

    __slots__ = ("generator", "random", "standard_normal")
    random: Callable[..., NDArray[np.float64]]
    standard_normal: Callable[[], float]

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        # The generator's own methods: uniforms of the given shape (a 0-d array for ``()``),
        # and one standard normal (a float).
        self.random = generator.random
        self.standard_normal = generator.standard_normal

    def binomial(
        self, counts: NDArray[np.integer[Any]], p: float | NDArray[Any]
    ) -> NDArray[np.int64]:
        """:func:`binomial` on this stream (``p`` a number or broadcasting to ``counts``)."""
        if not isinstance(p, float) and p.shape != counts.shape:
            p = p.item() if p.size == 1 else np.broadcast_to(p, counts.shape)
        return binomial(self.generator, counts, p)

    def poisson(self, lam: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
        """:func:`poisson` on this stream."""
        return poisson(self.generator, lam)


class BatchStream:
    """A stream per replication: draws with a leading replication axis, each row its own run's."""

    __slots__ = ("generators",)

    def __init__(self, generators: Sequence[np.random.Generator]) -> None:
        self.generators = list(generators)

    def random(self, shape: tuple[int, ...] = ()) -> NDArray[np.float64]:
        """Uniforms shaped ``(R, *shape)``: row r is what replication r's own stream gives."""
        if not shape:
            return np.array([g.random() for g in self.generators])
        out = np.empty((len(self.generators), *shape))
        for row, generator in zip(out, self.generators, strict=True):
            generator.random(shape, out=row)
        return out

    def standard_normal(self) -> NDArray[np.float64]:
        """One standard normal per replication."""
        return np.array([g.standard_normal() for g in self.generators])

    def binomial(
        self, counts: NDArray[np.integer[Any]], p: float | NDArray[Any]
    ) -> NDArray[np.int64]:
        """Per replication r, ``binomial(counts[r], p[r])`` (``p`` broadcasts to ``counts``).

        Element by element is how :func:`binomial` draws small arrays, and gives NumPy's array
        call's numbers for any size (tests/test_streams.py); a zero count draws nothing.
        """
        rows = counts.reshape(counts.shape[0], -1).tolist()
        out = []
        if isinstance(p, float):
            for generator, ks in zip(self.generators, rows, strict=True):
                draw = generator.binomial
                out.append([draw(k, p) if k else 0 for k in ks])
        else:
            ps = np.broadcast_to(p, counts.shape).reshape(counts.shape[0], -1).tolist()
            for generator, ks, qs in zip(self.generators, rows, ps, strict=True):
                draw = generator.binomial
                out.append([draw(k, q) if k else 0 for k, q in zip(ks, qs, strict=True)])
        return np.array(out, dtype=np.int64).reshape(counts.shape)

    def poisson(self, lam: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
        """Per replication r, ``poisson(lam[r])``, element by element as :func:`poisson` draws."""
        rows = lam.reshape(lam.shape[0], -1).tolist()
        out = []
        for generator, row in zip(self.generators, rows, strict=True):
            draw = generator.poisson
            out.append([draw(x) for x in row])
        return np.array(out, dtype=np.int64).reshape(lam.shape)


class Draws:
    """Every mechanism's stream, by name (``draws.board.random(shape)``), made on first use.

    Attributes:
        lead: The leading axes every draw carries: ``()`` for one run, ``(R,)`` for a batch.
    """

    lead: tuple[int, ...]

    def _stream(self, name: str) -> Stream:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Stream:
        if name.startswith("_") or name not in STREAM_NAMES:
            raise AttributeError(f"{type(self).__name__!r} has no stream {name!r}")
        stream = self._stream(name)
        setattr(self, name, stream)
        return stream


class RunDraws(Draws):
    """One run's draws, from its :class:`Streams`."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.lead = ()

    def _stream(self, name: str) -> Stream:
        return RunStream(getattr(self.streams, name))


class BatchDraws(Draws):
    """R replications' draws, replication r from ``streams[r]``."""

    def __init__(self, streams: Sequence[Streams]) -> None:
        self.streams = list(streams)
        self.lead = (len(self.streams),)

    def _stream(self, name: str) -> Stream:
        return BatchStream([getattr(s, name) for s in self.streams])
