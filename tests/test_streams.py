"""Random streams: the small-array draws give exactly NumPy's numbers."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relsim.model.streams import SMALL, Streams, binomial, poisson

sizes = st.sampled_from([0, 1, 5, SMALL, SMALL + 1, 3 * SMALL])


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=st.integers(0, 2**32 - 1), scalar=st.booleans())
def test_binomial_matches_numpys_array_call_and_leaves_the_stream_in_the_same_place(
    size, seed, scalar
):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size) * (rng.random(size) < 0.6)
    p = 0.37 if scalar else rng.random(size)
    mine, numpys = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    got = binomial(mine, counts, p)
    want = numpys.binomial(counts, p) if size else np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64
    assert mine.random() == numpys.random()


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=st.integers(0, 2**32 - 1))
def test_poisson_matches_numpys_array_call(size, seed):
    lam = np.random.default_rng(seed).random(size) * 2
    mine, numpys = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    np.testing.assert_array_equal(poisson(mine, lam), numpys.poisson(lam))
    assert mine.random() == numpys.random()


def test_zero_counts_draw_nothing():
    stream, untouched = np.random.default_rng(3), np.random.default_rng(3)
    assert binomial(stream, np.zeros(5, dtype=np.int64), 0.5).tolist() == [0] * 5
    assert stream.random() == untouched.random()


def test_bad_probability_is_refused_on_both_paths():
    with pytest.raises(ValueError, match="p"):
        binomial(np.random.default_rng(), np.ones(3, dtype=np.int64), 1.5)
    with pytest.raises(ValueError, match="p"):
        binomial(np.random.default_rng(), np.ones(SMALL + 1, dtype=np.int64), 1.5)


def test_streams_are_independent_and_reproducible():
    a, b = Streams(np.random.default_rng(9)), Streams(np.random.default_rng(9))
    assert a.pressure.random() == b.pressure.random()
    assert a.pressure.random() != a.problems.random()


def test_a_stream_made_on_first_use_draws_what_one_made_up_front_would():
    """Streams are made lazily; each is a function of the seed and its name alone."""
    root = np.random.default_rng(2024)
    streams = Streams(root)
    seq = root.bit_generator.seed_seq
    used_later = ["national", "board", "setup"]
    for name in used_later:
        upfront = np.random.Generator(
            np.random.PCG64(
                np.random.SeedSequence(
                    entropy=seq.entropy,
                    spawn_key=(*seq.spawn_key, zlib.crc32(name.encode())),
                    pool_size=seq.pool_size,
                )
            )
        )
        np.testing.assert_array_equal(getattr(streams, name).random(5), upfront.random(5))
    assert streams.board is streams.board
    with pytest.raises(AttributeError):
        _ = streams.no_such_stream
