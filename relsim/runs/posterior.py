"""A posterior sample of parameter sets, and drawing from it reproducibly.

``relsim calibrate`` writes its last generation's weighted particles to ``posterior.parquet``:
a ``particle`` column, one column per calibrated dotted scenario key, and ``weight``. Two
things draw parameter sets from such a file:

- an experiment's ``[posterior]`` table (:mod:`relsim.runs.experiment`): replication r of every
  design point takes particle :meth:`Posterior.draw_index` (seed, r) and the seed of
  replication r, so that intervals over replications cover the parameters' uncertainty as well
  as chance, and design points stay paired by (parameter set, seed);
- ``relsim conclusions --posterior`` (:mod:`relsim.analysis.conclusions`), through
  :meth:`Posterior.sample`.

Particles are drawn with replacement by weight (multinomial resampling): the weighted sample
stands for the posterior, and a draw's chance is its weight. Each replication's draw comes
from its own :class:`numpy.random.SeedSequence` stream (spawn key :data:`POSTERIOR_KEY`, r),
so that replication r keeps its parameter set whatever the number of replications, as it keeps
its seed: ``--replications`` and ``--resume`` can extend a sweep.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relsim.errors import RelsimError, ScenarioError
from relsim.scenario import schema_type_at

#: The file ``relsim calibrate`` writes in its output directory.
POSTERIOR_FILE = "posterior.parquet"

#: Columns of a posterior file that are not scenario keys.
PARTICLE, WEIGHT = "particle", "weight"

#: SeedSequence spawn key reserved for drawing replications' parameter sets (replications use
#: 0, 1, ...; a sampled design 2**32 - 1).
POSTERIOR_KEY = 2**32 - 2

#: Most particles a posterior file may hold, and its largest size: a wrong file should be
#: refused, not read into memory.
MAX_PARTICLES = 100_000
MAX_POSTERIOR_BYTES = 64 << 20


@dataclass(frozen=True, eq=False)
class Posterior:
    """A weighted sample of parameter sets over some scenario keys."""

    path: Path
    """The file read."""
    sha256: str
    """The file's SHA-256: what decides the runs, whatever its name or place."""
    names: tuple[str, ...]
    """The dotted scenario keys, in file order."""
    values: np.ndarray
    """Particles × keys."""
    weights: np.ndarray
    """Each particle's weight, summing to 1."""
    integer: tuple[bool, ...]
    """Whether each key takes whole numbers (drawn values are rounded half to even)."""

    @property
    def size(self) -> int:
        """Particles in the sample."""
        return len(self.weights)

    @functools.cached_property
    def _cumulative(self) -> np.ndarray:
        return np.cumsum(self.weights)

    def draw_index(self, seed: int, replication: int) -> int:
        """The particle replication ``replication`` of an experiment with ``seed`` takes."""
        stream = np.random.SeedSequence(seed, spawn_key=(POSTERIOR_KEY, replication))
        u = np.random.default_rng(stream).random()
        cumulative = self._cumulative
        index = np.searchsorted(cumulative, u * cumulative[-1], side="right")
        return int(min(index, self.size - 1))

    def distinct(self) -> list[int]:
        """The first particle of each distinct parameter set (ABC samples repeat some)."""
        _, first = np.unique(self.values, axis=0, return_index=True)
        return sorted(int(i) for i in first)

    def parameters(self, index: int) -> tuple[tuple[str, Any], ...]:
        """Particle ``index`` as (dotted key, value) scenario overrides."""
        return tuple(
            (key, int(np.round(v)) if whole else float(v))
            for key, v, whole in zip(self.names, self.values[index], self.integer, strict=True)
        )

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` parameter sets drawn by weight, with replacement (one column per key)."""
        rows = [dict(self.parameters(self.draw_index(seed, i))) for i in range(n)]
        return pd.DataFrame(rows, columns=list(self.names))

    def to_dict(self, shown: str) -> dict[str, Any]:
        """What a manifest records: the file as written and as found, its hash, its keys."""
        return {
            "file": shown,
            "path": str(self.path),
            "sha256": self.sha256,
            "keys": list(self.names),
            "particles": self.size,
        }


def posterior_path(source: Path | str) -> Path:
    """``source`` if a file, or the ``posterior.parquet`` in it if a directory."""
    path = Path(source)
    return path / POSTERIOR_FILE if path.is_dir() else path


def read_posterior(source: Path | str, shown: str | None = None) -> Posterior:
    """Read and check a posterior sample.

    Args:
        source: ``posterior.parquet`` as ``relsim calibrate`` writes it, or its directory.
        shown: How messages name the file (default: its path).

    Raises:
        RelsimError: one line naming the file, the column and what was expected.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = posterior_path(source)
    where = shown or str(path)
    if not path.exists():
        raise RelsimError(f"{where}: no such posterior (expected relsim calibrate's output)")
    if not path.is_file():  # a FIFO would block, a device never end
        raise RelsimError(f"{where}: not a regular file (expected a Parquet posterior)")
    size = path.stat().st_size
    if size > MAX_POSTERIOR_BYTES:
        raise RelsimError(
            f"{where}: is {size / 1e6:.0f} MB; a posterior may be at most "
            f"{MAX_POSTERIOR_BYTES / 1e6:.0f} MB"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RelsimError(f"{where}: cannot be read ({exc.strerror})") from None
    try:
        table = pq.read_table(pa.BufferReader(data)).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise RelsimError(f"{where}: not a readable Parquet posterior ({exc})") from None
    if WEIGHT not in table.columns:
        raise RelsimError(f"{where}: {WEIGHT}: expected a column of particle weights")
    if not 0 < len(table) <= MAX_PARTICLES:
        raise RelsimError(f"{where}: expected 1 to {MAX_PARTICLES} particles (got {len(table)})")
    weight = table.pop(WEIGHT)
    if pd.api.types.is_bool_dtype(weight):
        raise RelsimError(f"{where}: {WEIGHT}: expected numbers, not true/false")
    weights = pd.to_numeric(weight, errors="coerce").to_numpy(float)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RelsimError(f"{where}: {WEIGHT}: expected finite weights >= 0")
    if weights.sum() <= 0:
        raise RelsimError(f"{where}: {WEIGHT}: every weight is 0")
    table = table.drop(columns=[PARTICLE], errors="ignore")
    if table.columns.empty:
        raise RelsimError(f"{where}: expected a column per calibrated scenario key")
    integer = []
    for key in table.columns:
        try:
            kind = schema_type_at(str(key), where, str(key))
        except ScenarioError as exc:
            raise RelsimError(str(exc)) from None
        if kind not in (float, int):
            raise RelsimError(f"{where}: {key}: only numeric keys can be drawn from a posterior")
        column = pd.to_numeric(table[key], errors="coerce").to_numpy(float)
        if not np.isfinite(column).all():
            raise RelsimError(f"{where}: {key}: expected finite numbers in every particle")
        integer.append(kind is int)
    return Posterior(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        names=tuple(str(c) for c in table.columns),
        values=table.to_numpy(float),
        weights=weights / weights.sum(),
        integer=tuple(integer),
    )


__all__ = ["POSTERIOR_FILE", "POSTERIOR_KEY", "Posterior", "posterior_path", "read_posterior"]
