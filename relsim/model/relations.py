"""Per-pair state, stored so that it grows with the pairs that meet, not with the system squared.

Actors are numbered as everywhere in relsim: 0 is the regulator, ``1 + i`` is trust ``i``, and,
when a governance rule of the scenario needs regional conveners (a network administrative
organisation), ``1 + N + r`` is the convener of region ``r``.

Who can meet whom is known from the regions: the regulator meets every trust, trusts meet the
trusts of their own region (and their convener), and only a few pairs ever meet across regions
(representatives in the national learning network, or everyone at one shared board). So trust
is stored in two parts (:class:`Relations`):

- one **dense block per region** (:class:`Layout`): a small square matrix over the region's
  actors, position 0 the regulator, then the region's trusts, then (if any) its convener. The
  regulator sits in every block, but each of its pairs with a trust or a convener lives in
  exactly one block, the block of that trust's or convener's region. Blocks are stacked into one
  ``regions × width × width`` array (padded to the largest region), so every mechanism updates
  all regions at once; the size is about trusts × region size, linear in the trusts.
- a **sparse store** of the pairs across regions that have met at least once
  (:class:`PairStore`), every other cross-region pair being at its initial trust, exactly, for
  it has had no contact to move it.

With one region and no conveners (the five-trust partnership), the single block *is* the
trust matrix over the regulator and the trusts, in the same order and memory layout.

Replications stepped together (:mod:`relsim.model.batch`) give the blocks a leading axis; every
block operation broadcasts over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from relsim.model.mechanisms import Bool, Float, Int, drift_trust, update_trust

#: Index of the regulator among actors; trust ``i`` is actor ``1 + i``.
REGULATOR = 0


class Layout:
    """Where the trust of each pair of actors is stored (see the module docstring).

    Args:
        regions: Region index of each trust (0, 1, ...), in trust order.
        conveners: Whether each region has a convener agent (an extra actor per region).
    """

    def __init__(self, regions: Sequence[int] | Int, *, conveners: bool = False) -> None:
        region = np.asarray(regions, dtype=np.int64)
        self.n_trusts = int(region.size)
        self.n_regions = int(region.max()) + 1 if region.size else 1
        self.sizes: Int = np.bincount(region, minlength=self.n_regions).astype(np.int64)
        self.max_size = int(self.sizes.max(initial=0))
        self.conveners = conveners
        #: Positions 0 (regulator), 1..max_size (trusts, padded), then the convener if any.
        self.width = self.max_size + 1 + int(conveners)
        self.convener_position = self.width - 1 if conveners else -1
        self.region: Int = region
        """Region of each trust."""
        order = np.argsort(region, kind="stable")
        position = np.empty(self.n_trusts, dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1]))
        position[order] = np.arange(self.n_trusts) - np.repeat(starts, self.sizes) + 1
        self.position: Int = position
        """Position of each trust in its region's block (1 .. size)."""
        self.n_actors = 1 + self.n_trusts + (self.n_regions if conveners else 0)
        actor_at = np.full((self.n_regions, self.width), -1, dtype=np.int64)
        actor_at[:, 0] = REGULATOR
        actor_at[region, position] = 1 + np.arange(self.n_trusts)
        if conveners:
            actor_at[:, self.convener_position] = 1 + self.n_trusts + np.arange(self.n_regions)
        self.actor_at: Int = actor_at
        """Actor at each (region, position); -1 for padding."""
        real = actor_at >= 0
        self.valid: Bool = real[:, :, None] & real[:, None, :] & ~np.eye(self.width, dtype=bool)
        """Pairs of distinct actors stored in the blocks (padding and the diagonal excluded)."""
        self.is_trust: Bool = real & (actor_at > REGULATOR) & (actor_at <= self.n_trusts)
        """Which positions hold a trust."""
        self.identity = self.n_regions == 1 and not conveners
        """One region and no conveners: block 0 is the matrix over the regulator and trusts."""
        self.month_shape: tuple[int, ...] = self.shape[1:] if self.identity else self.shape
        """Shape of a month's interaction arrays: the blocks, or with the identity layout the
        matrix over actors itself."""
        for array in (
            self.region,
            self.position,
            self.sizes,
            self.actor_at,
            self.valid,
            self.is_trust,
        ):
            array.flags.writeable = False

    @classmethod
    def single(cls, n_trusts: int) -> Layout:
        """All trusts in one region, no conveners: one block, the whole trust matrix."""
        return cls(np.zeros(n_trusts, dtype=np.int64))

    @staticmethod
    def of(regions: Int, *, conveners: bool = False) -> Layout:
        """The layout for these regions, shared by every model that asks for it (read-only)."""
        return _layout(tuple(regions.tolist()), conveners)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Layout)
            and self.conveners == other.conveners
            and np.array_equal(self.region, other.region)
        )

    def __hash__(self) -> int:
        return hash((self.conveners, self.region.tobytes()))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of the stacked blocks: regions × width × width."""
        return (self.n_regions, self.width, self.width)

    def block_of(self, actor: int) -> tuple[int, int]:
        """(region, position) of a trust or convener (the regulator is at position 0 of all)."""
        if 1 <= actor <= self.n_trusts:
            return int(self.region[actor - 1]), int(self.position[actor - 1])
        if self.conveners and actor > self.n_trusts:
            return actor - 1 - self.n_trusts, self.convener_position
        raise ValueError(f"actor {actor} has no block of its own")

    @cached_property
    def trust_places(self) -> tuple[Any, ...]:
        """Index of the trusts' places in blocks with one trailing axis, ``(..., R, W, K)``.

        Basic slicing with one region (the trusts sit at positions 1..N), else per trust.
        """
        if self.n_regions == 1:
            return (..., 0, slice(1, self.n_trusts + 1), slice(None))
        return (..., self.region, self.position, slice(None))

    @cached_property
    def cross_region(self) -> Bool:
        """Over regulator and trusts ((N+1)²): pairs of trusts in different regions."""
        region = np.concatenate(([-1], self.region))
        mask = (region[:, None] != region[None, :]) & (region[:, None] >= 0)
        mask &= region[None, :] >= 0
        mask.flags.writeable = False
        return mask

    @cached_property
    def dense_index(self) -> Int:
        """Index of each block position into a matrix over the regulator and trusts.

        The matrix is padded with one extra zero row and column (index N + 1) for the block
        positions that are not in it (padding, conveners).
        """
        index = np.where(self.is_trust | (np.arange(self.width) == 0), self.actor_at, -1)
        index[index < 0] = self.n_trusts + 1
        index.flags.writeable = False
        return index

    def gather(self, dense: np.ndarray) -> np.ndarray:
        """Blocks holding the entries of a matrix over the regulator and trusts ((N+1)²).

        Positions outside that matrix (padding, conveners) get zero (False).
        """
        if self.identity:
            return dense.reshape(self.shape)
        n = self.n_trusts + 1
        padded = np.zeros((n + 1, n + 1), dtype=dense.dtype)
        padded[:n, :n] = dense
        index = self.dense_index
        return padded[index[:, :, None], index[:, None, :]]

    def scatter(self, blocks: np.ndarray, fill: float) -> np.ndarray:
        """The matrix over the regulator and trusts ((N+1)²) holding the blocks' entries.

        Pairs in no block (across regions) get ``fill``.
        """
        if self.identity:
            return blocks.reshape(self.n_trusts + 1, self.n_trusts + 1)
        n = self.n_trusts + 1
        dense = np.full((n + 1, n + 1), fill, dtype=blocks.dtype)
        index = self.dense_index
        dense[index[:, :, None], index[:, None, :]] = blocks
        dense = dense[:n, :n]
        np.fill_diagonal(dense, blocks[0, 0, 0] if blocks.size else fill)
        return dense

    def trust_values(self, blocks: np.ndarray, row: int | None, column: int | None) -> np.ndarray:
        """Per trust, the block entry between it and the actor at position ``row`` / ``column``.

        ``trust_values(b, None, 0)`` is each trust's trust in the regulator; ``(b, 0, None)``
        the regulator's trust in each trust. Works on a stack of blocks with leading axes.
        """
        if self.identity:
            if row is None:
                return blocks[..., 0, 1:, column]
            return blocks[..., 0, row, 1:]
        r, p = self.region, self.position
        if row is None:
            return blocks[..., r, p, column]
        return blocks[..., r, row, p]

    def peer_means(
        self, blocks: np.ndarray, *, columns: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Each trust's mean trust in the other trusts of its region, and theirs in it.

        For a stack of blocks (leading axes, e.g. months) too. With one region and no
        conveners these are the row and column means of the trusts' block of the matrix,
        leaving out the diagonal, computed exactly as before blocks existed.
        """
        m = self.max_size
        peers = blocks[..., 1 : m + 1, 1 : m + 1]
        diagonal = np.diagonal(peers, axis1=-2, axis2=-1)
        if self.identity:
            off = max(self.n_trusts - 1, 1)
            rows = (np.add.reduce(peers, axis=-1) - diagonal) / off
            if not columns:
                return rows[..., 0, :], None
            cols = (np.add.reduce(peers, axis=-2) - diagonal) / off
            return rows[..., 0, :], cols[..., 0, :]
        # Padding holds zeros; a pad's diagonal is zero too, so it subtracts nothing.
        per_region = np.maximum(self.sizes - 1, 1).astype(float)[:, None]
        r, p = self.region, self.position - 1
        rows = (np.add.reduce(peers, axis=-1) - diagonal) / per_region
        if not columns:
            return rows[..., r, p], None
        cols = (np.add.reduce(peers, axis=-2) - diagonal) / per_region
        return rows[..., r, p], cols[..., r, p]

    def actor_names(self, trusts: Sequence[str], regions: Sequence[str]) -> list[str]:
        """Display names of all actors, in actor order."""
        names = ["regulator", *trusts]
        if self.conveners:
            names += [f"{region or 'network'} convener" for region in regions]
        return names


@lru_cache(maxsize=64)
def _layout(regions: tuple[int, ...], conveners: bool) -> Layout:
    return Layout(np.array(regions, dtype=np.int64), conveners=conveners)


class PairStore:
    """Trust of pairs across regions that have met: a growing sparse store of directed pairs.

    Pairs are kept in the order they first met (so a recorded history stays aligned: slot k is
    the same pair in every month); a sorted index finds slots for many pairs at once. When most
    pairs of actors have met (one shared board of every trust), a dense table of slots replaces
    the sorted index: the pairs are then as many as a dense matrix would hold anyway, and a
    table finds them in one pass.
    """

    #: Share of all ordered pairs of actors stored beyond which slots are found by a table.
    DENSE_INDEX_SHARE = 1 / 8

    def __init__(self, n_actors: int, baseline: float) -> None:
        self.n_actors = n_actors
        self.baseline = baseline
        """Initial trust of every pair across regions (trust between trusts)."""
        self.keys: Int = np.zeros(0, dtype=np.int64)
        self.values: Float = np.zeros(0)
        self.sources: Int = np.zeros(0, dtype=np.int64)
        """Actor who trusts, per stored pair."""
        self.targets: Int = np.zeros(0, dtype=np.int64)
        """Actor trusted, per stored pair."""
        self._order: Int = np.zeros(0, dtype=np.int64)
        self._sorted: Int = np.zeros(0, dtype=np.int64)
        self._table: Int | None = None

    def __len__(self) -> int:
        return int(self.keys.size)

    def find(self, keys: Int) -> Int:
        """Slots of the given pair keys (``source * n_actors + target``); -1 where not stored."""
        if not self.keys.size:
            return np.full(keys.shape, -1, dtype=np.int64)
        if self._table is not None:
            return self._table[keys]
        at = np.minimum(np.searchsorted(self._sorted, keys), self._sorted.size - 1)
        found = self._sorted[at] == keys
        return np.where(found, self._order[at], -1)

    def slots(self, keys: Int) -> Int:
        """Slots of the given (distinct) pair keys, storing the new ones at their initial trust."""
        slots = self.find(keys)
        new = slots < 0
        if np.count_nonzero(new):
            start = self.keys.size
            added = keys[new]
            slots[new] = start + np.arange(added.size)
            self.keys = np.concatenate((self.keys, added))
            self.values = np.concatenate((self.values, np.full(added.size, self.baseline)))
            self.sources = self.keys // self.n_actors
            self.targets = self.keys % self.n_actors
            if self._table is None and self.keys.size > self.DENSE_INDEX_SHARE * self.n_actors**2:
                self._table = np.full(self.n_actors**2, -1, dtype=np.int64)
                self._table[self.keys] = np.arange(self.keys.size)
            elif self._table is not None:
                self._table[added] = slots[new]
            else:
                self._order = np.argsort(self.keys, kind="stable")
                self._sorted = self.keys[self._order]
        return slots

    def get(self, sources: Int, targets: Int) -> Float:
        """Trust of each pair (its initial trust when it never met)."""
        slots = self.find(sources * self.n_actors + targets)
        return np.where(slots >= 0, self.values[np.maximum(slots, 0)], self.baseline)


class Relations:
    """The trust every actor places in every other, in blocks and a sparse store.

    Attributes:
        layout: Where each pair is stored.
        blocks: Trust within regions (``(*lead, regions, width, width)``); padding holds 0, the
            diagonal 1. ``lead`` is ``()`` for one run, ``(R,)`` for R replications stepped
            together.
        baseline: Initial trust in the block layout (without leading axes); pairs without
            contact drift toward it.
        cross: Trust across regions, for the pairs that have met (one run only: replications
            are stepped together only where no pair meets across regions).
    """

    def __init__(
        self,
        layout: Layout,
        *,
        regulator_trust: float,
        peer_trust: float,
        convener_trust: float = 0.0,
        lead: tuple[int, ...] = (),
    ) -> None:
        self.layout = layout
        self.lead = lead
        self.cross = PairStore(layout.n_actors, peer_trust)
        real = layout.actor_at >= 0
        trusts = layout.is_trust
        baseline = np.zeros(layout.shape)
        baseline[trusts[:, :, None] & trusts[:, None, :]] = peer_trust
        regulator_row, regulator_column = baseline[:, 0, :], baseline[:, :, 0]  # views
        regulator_row[real] = regulator_trust
        regulator_column[real] = regulator_trust
        if layout.conveners:
            c = layout.convener_position
            convener_row, convener_column = baseline[:, c, :], baseline[:, :, c]
            convener_row[real] = convener_trust
            convener_column[real] = convener_trust
        diagonal = np.einsum("rii->ri", baseline)  # a writable view on the diagonals
        diagonal[real] = 1.0
        baseline.flags.writeable = False
        self.baseline: Float = baseline
        self.blocks: Float = np.broadcast_to(baseline, (*lead, *layout.shape)).copy()

    def trust_in_regulator(self) -> Float:
        """Each trust's trust in the regulator (``(*lead, N)``)."""
        return self.layout.trust_values(self.blocks, None, REGULATOR)

    def regulator_trust(self) -> Float:
        """The regulator's trust in each trust (``(*lead, N)``)."""
        return self.layout.trust_values(self.blocks, REGULATOR, None)

    def dense(self) -> Float:
        """The full matrix over the regulator and trusts ((N+1)²; conveners left out).

        For small systems, inspection and tests: it has the square size that the blocks avoid.
        With one region (the blocks' identity layout) it is a view on the stored block; with
        leading axes, one matrix per replication (one region only).
        """
        if self.layout.identity:
            return self.blocks[..., 0, :, :]
        self._one_run("a dense trust matrix across regions")
        dense = self.layout.scatter(self.blocks, self.cross.baseline)
        n = self.layout.n_trusts + 1
        if self.cross.keys.size:
            src, dst = self.cross.sources, self.cross.targets
            inside = (src < n) & (dst < n)
            dense[src[inside], dst[inside]] = self.cross.values[inside]
        return dense

    def _one_run(self, what: str) -> None:
        if self.lead:
            raise ValueError(
                f"{what} is kept for one run only (replications have lead {self.lead})"
            )

    def mean_trust(self) -> float:
        """Mean trust over ordered pairs of distinct actors among the regulator and all trusts.

        The condition of the compact of one board spanning regions (M6). Pairs across regions
        that never met count at their initial trust. One run only.
        """
        self._one_run("mean trust across regions")
        layout = self.layout
        inside = layout.valid & (layout.dense_index <= layout.n_trusts)[:, :, None]
        inside &= (layout.dense_index <= layout.n_trusts)[:, None, :]
        total = float(np.add.reduce(self.blocks[inside]))
        pairs = int(np.count_nonzero(inside))
        store = self.cross
        if store.keys.size:
            n = layout.n_trusts + 1
            among = (store.sources < n) & (store.targets < n)
            total += float(np.add.reduce(store.values[among]))
            pairs += int(np.count_nonzero(among))
        n = layout.n_trusts + 1
        everyone = n * (n - 1)
        return (total + (everyone - pairs) * store.baseline) / everyone if everyone else 1.0

    def trusted(self, sources: Int, targets: Int) -> Float:
        """Trust of arbitrary pairs of trusts' actors (source trusts target). One run only."""
        self._one_run("trust of pairs across regions")
        layout = self.layout
        out = self.cross.get(sources, targets)
        ri, rj = layout.region[sources - 1], layout.region[targets - 1]
        same = ri == rj
        if np.count_nonzero(same):
            pi, pj = layout.position[sources - 1], layout.position[targets - 1]
            out[same] = self.blocks[ri[same], pi[same], pj[same]]
        return out

    def update(
        self,
        positive: Float,
        negative: Float,
        contact: Bool,
        cross: tuple[Int, Float, Float] | None,
        gain: float,
        loss_ratio: float,
        drift: float,
    ) -> None:
        """Apply a month's interactions (M1): blocks at once, then the cross-region pairs.

        Args:
            positive: The month's positive weights, in block layout (with the leading axes).
            negative: The month's negative weights, in block layout.
            contact: Which pairs had contact this month, in block layout.
            cross: Pairs across regions that interacted this month: (distinct keys, positive
                weights, negative weights), or None.
            gain: α of M1.
            loss_ratio: λ of M1.
            drift: φ of M1.
        """
        blocks = update_trust(self.blocks, positive, negative, gain, loss_ratio)
        self.blocks = drift_trust(blocks, self.baseline, drift, contact)
        store = self.cross
        if cross is None and not store.keys.size:
            return
        if cross is not None:
            keys, pos, neg = cross
            slots = store.slots(keys)  # stores pairs meeting for the first time
        values_pos = np.zeros(len(store))
        values_neg = np.zeros(len(store))
        touched = np.zeros(len(store), dtype=bool)
        if cross is not None:
            values_pos[slots] = pos
            values_neg[slots] = neg
            touched[slots] = True
        values = update_trust(store.values, values_pos, values_neg, gain, loss_ratio)
        store.values = drift_trust(values, store.baseline, drift, touched)
