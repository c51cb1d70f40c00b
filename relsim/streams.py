"""Independent random streams, one per mechanism, all derived from the model's generator.

Every random number in relsim comes from the model's seed. Each mechanism draws from its own
stream, spawned from the model generator's :class:`numpy.random.SeedSequence` with a key derived
from the stream's *name* (as Starsim does): switching a mechanism on or off, or adding a new one,
does not shift the numbers any other mechanism draws. Paired runs (same seed, one thing changed)
then differ only through the thing changed, which is what makes them informative.
"""

from __future__ import annotations

import zlib

import numpy as np

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

    def __init__(self, root: np.random.Generator, names: tuple[str, ...] = STREAM_NAMES) -> None:
        seed_seq = root.bit_generator.seed_seq
        if not isinstance(seed_seq, np.random.SeedSequence):  # pragma: no cover
            # A generator built without a SeedSequence: seed one from it, reproducibly.
            seed_seq = np.random.SeedSequence(int(root.integers(2**63)))
        bit_generator = type(root.bit_generator)
        for name in names:
            child = np.random.SeedSequence(
                entropy=seed_seq.entropy,
                spawn_key=(*seed_seq.spawn_key, _key(name)),
                pool_size=seed_seq.pool_size,
            )
            setattr(self, name, np.random.Generator(bit_generator(child)))
