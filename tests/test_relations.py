"""Per-pair storage: regional blocks and a sparse store agree with the dense matrix they replace."""

from __future__ import annotations

import numpy as np
import pytest

from relsim.model.interactions import Interactions
from relsim.model.mechanisms import drift_trust, update_trust
from relsim.model.relations import Layout, PairStore, Relations

REGIONS = np.array([0, 0, 1, 1, 1, 2, 0, 2, 1, 3])  # unordered, of sizes 3, 4, 2, 1


def relations(conveners=False):
    return Relations(
        Layout(REGIONS, conveners=conveners),
        regulator_trust=0.3,
        peer_trust=0.25,
        convener_trust=0.4,
    )


def test_layout_places_every_trust_once_with_the_regulator_in_every_block():
    layout = Layout(REGIONS, conveners=True)
    assert layout.shape == (4, 6, 6)  # regulator, up to 4 trusts, the convener
    assert list(layout.sizes) == [3, 4, 2, 1]
    trusts = layout.actor_at[layout.is_trust]
    assert sorted(trusts) == list(range(1, 11))
    assert (layout.actor_at[:, 0] == 0).all()
    assert list(layout.actor_at[:, -1]) == [11, 12, 13, 14]
    for i, r in enumerate(REGIONS):
        assert layout.block_of(1 + i) == (r, layout.position[i])
        assert layout.actor_at[r, layout.position[i]] == 1 + i
    # Each stored pair is a distinct ordered pair of actors.
    r, p, q = np.nonzero(layout.valid)
    pairs = set(zip(layout.actor_at[r, p], layout.actor_at[r, q], strict=True))
    assert len(pairs) == r.size
    # Storage is linear in the trusts: a block per region, not a matrix over all actors.
    assert layout.valid.sum() < layout.n_actors**2


def test_initial_values_are_those_of_the_dense_matrix():
    rel = relations()
    dense = rel.dense()
    assert dense.shape == (11, 11)
    assert (np.diagonal(dense) == 1).all()
    assert (dense[0, 1:] == 0.3).all()
    assert (dense[1:, 0] == 0.3).all()
    off = ~np.eye(10, dtype=bool)
    assert (dense[1:, 1:][off] == 0.25).all()
    np.testing.assert_array_equal(rel.trust_in_regulator(), 0.3)


def test_peer_means_are_regional_means_of_the_dense_matrix():
    rng = np.random.default_rng(1)
    rel = relations()
    rel.blocks = np.where(rel.layout.valid, rng.random(rel.layout.shape), rel.blocks)
    dense = rel.dense()
    rows, cols = rel.layout.peer_means(rel.blocks)
    for i, r in enumerate(REGIONS):
        mates = [j for j, s in enumerate(REGIONS) if s == r and j != i]
        if not mates:
            assert rows[i] == 0
            assert cols[i] == 0
            continue
        assert rows[i] == pytest.approx(dense[1 + i, [1 + j for j in mates]].mean())
        assert cols[i] == pytest.approx(dense[[1 + j for j in mates], 1 + i].mean())


@pytest.mark.parametrize("seed", range(5))
def test_a_month_in_blocks_and_pairs_equals_the_dense_update(seed):
    """Random exchanges over all pairs (across regions too): the stored relations end up
    where the dense M1 update takes the dense matrix."""
    rng = np.random.default_rng(seed)
    rel = relations()
    layout = rel.layout
    dense = rel.dense().copy()
    baseline = dense.copy()
    for _ in range(4):
        pair = rng.random((11, 11)) < 0.3
        pair = np.triu(pair, 1)
        pair = pair | pair.T
        positive = rng.random((11, 11)) < 0.6
        positive = np.triu(positive, 1) | np.triu(positive, 1).T
        ix = Interactions(layout)
        good = ix.exchange(pair, 0.7, positive, 0.2)
        ix.trust_sees_regulator(rng.random(10), 0.0)
        ix.regulator_sees_trust(0.0, rng.random(10) * (rng.random(10) < 0.3))
        ix.finish()
        rel.update(ix.positive, ix.negative, ix.contact, ix.cross_totals(), 0.05, 3.0, 0.01)
        # The same month, densely.
        pos = good * 0.7
        neg = (pair ^ good) * 0.14
        pos[1:, 0] += ix.regulator_exchanges()[0]
        neg[1:, 0] += ix.regulator_exchanges()[1]
        pos[0, 1:] += ix.regulator_exchanges()[2]
        neg[0, 1:] += ix.regulator_exchanges()[3]
        contact = pair.copy()
        touched = ix.regulator_exchanges().sum(axis=0) > 0
        contact[1:, 0] |= touched
        contact[0, 1:] |= touched
        dense = drift_trust(update_trust(dense, pos, neg, 0.05, 3.0), baseline, 0.01, contact)
        np.testing.assert_allclose(rel.dense(), dense, rtol=0, atol=1e-15)
    # Only pairs that met across regions are stored.
    met = len(rel.cross)
    assert 0 < met <= int(layout.cross_region.sum())


def test_pair_store_keeps_slots_stable_and_answers_unstored_pairs_with_the_baseline():
    store = PairStore(n_actors=10, baseline=0.3)
    first = store.slots(np.array([15, 3, 42]))
    assert list(first) == [0, 1, 2]
    store.values[:] = [0.5, 0.6, 0.7]
    again = store.slots(np.array([42, 7, 15]))
    assert list(again) == [2, 3, 0]
    assert list(store.keys) == [15, 3, 42, 7]
    np.testing.assert_array_equal(
        store.get(np.array([1, 4, 0, 9]), np.array([5, 2, 3, 9])), [0.5, 0.7, 0.6, 0.3]
    )


def test_one_region_is_the_trust_matrix_itself():
    layout = Layout.single(5)
    assert layout.identity
    rel = Relations(layout, regulator_trust=0.3, peer_trust=0.3)
    assert rel.dense().base is rel.blocks or np.shares_memory(rel.dense(), rel.blocks)
    assert Layout.of(np.zeros(5, dtype=np.int64)) is Layout.of(np.zeros(5, dtype=np.int64))
