"""Contrasts between the levels of every grid factor, and their interactions with the mode.

For each grid factor, each level is compared with the factor's first level within each cell of
the other grid factors (its *stratum*): the mean difference with a 95% interval and Hedges' g.
When ``governance.mode`` is a factor too, each other factor's contrast is also compared between
the modes: the difference in differences (the interaction), ``[y(L, M) - y(L, M0)] - [y(L0, M)
- y(L0, M0)]`` for a level L against the first level L0 and a mode M against the first mode
M0: how much the mode's effect changes with the factor's level.

**Pairing and the unit of inference.** With common random numbers, replication r of every
design point shares its seed, so runs are matched by replication (and sampled point, when
sampled keys are pooled): the difference is taken run by run, and the difference in
differences from the four runs of one match. The differences are then summarised with the seed
as the unit (:func:`relsim.analysis.stats.paired_difference` with ``clusters``): matches that
share a seed, the sampled points of one replication, are not independent. Without common
random numbers the runs are independent and the groups are compared unpaired (Welch).

Everything here is a pure function of a runs table (a DataFrame) and the design; the summary
(:mod:`relsim.analysis.summary`) calls it on a sweep's finished runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from relsim.analysis.stats import (
    LEVEL,
    hedges_g,
    mean_interval,
    paired_difference,
    units,
    welch_difference,
)

MODE = "governance.mode"

#: Columns of a contrasts table besides the grid factors that name its stratum (a factor
#: compared, and the mode of an interaction, are empty in their own rows).
CONTRAST_STATS = (
    "factor",
    "reference",
    "compared",
    "by",
    "by_reference",
    "by_compared",
    "outcome",
    "n",
    "seeds",
    "paired",
    "reference_mean",
    "compared_mean",
    "difference",
    "ci_low",
    "ci_high",
    "hedges_g",
)


def stored_level(level: Any) -> Any:
    """A factor level as the runs table stores it (lists and tables as JSON text)."""
    return json.dumps(level) if isinstance(level, list | dict) else level


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def _strata(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    if not keys:
        return [({}, frame)]
    out = []
    for values, group in frame.groupby(list(keys), sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        out.append((dict(zip(keys, values, strict=True)), group))
    return out


def _by_level(group: pd.DataFrame, factor: str, levels: Sequence[Any]) -> list[pd.DataFrame]:
    """The group's runs at each level (in the experiment's order; empty where none ran)."""
    return [group[group[factor] == stored_level(level)] for level in levels]


def _matched(frames: Sequence[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Runs of several arms matched on ``keys`` (replication and sampled point).

    Columns of arm k are suffixed ``@k``; only matches that every arm has are kept.
    """
    merged = frames[0].add_suffix("@0").rename(columns={f"{k}@0": k for k in keys})
    for k, frame in enumerate(frames[1:], start=1):
        other = frame.add_suffix(f"@{k}").rename(columns={f"{key}@{k}": key for key in keys})
        merged = merged.merge(other, on=list(keys))
    return merged


def _row(
    stratum: Mapping[str, Any], outcome: str, values: dict[str, Any], **labels: Any
) -> dict[str, Any]:
    return {**stratum, **labels, "outcome": outcome, **values}


def _difference(
    ref: pd.DataFrame, other: pd.DataFrame, outcome: str, keys: Sequence[str], paired: bool
) -> dict[str, Any] | None:
    """One level against the reference level: difference, interval, g; None if undefined."""
    a, b = ref[outcome].to_numpy(float), other[outcome].to_numpy(float)
    if np.isnan(a).all() or np.isnan(b).all():
        return None  # e.g. the month of a compact that one side cannot have
    matched = _matched([ref[[*keys, "seed", outcome]], other[[*keys, outcome]]], keys)
    if paired and len(matched):
        x, y = matched[f"{outcome}@0"].to_numpy(float), matched[f"{outcome}@1"].to_numpy(float)
        seed = matched["seed@0"].to_numpy()
        mean, low, high, n = paired_difference(x, y, clusters=seed)
        seeds = units(seed, y - x)
    else:
        mean, low, high, n = welch_difference(a, b)
        seeds = units(None, a) + units(None, b)  # independent runs: each its own unit
        paired = False
    return {
        "n": n,
        "seeds": seeds,
        "paired": paired,
        "reference_mean": _nanmean(a),
        "compared_mean": _nanmean(b),
        "difference": mean,
        "ci_low": low,
        "ci_high": high,
        "hedges_g": hedges_g(a, b),
    }


def _interaction(
    arms: Sequence[pd.DataFrame], outcome: str, keys: Sequence[str], paired: bool
) -> dict[str, Any] | None:
    """The difference in differences of four arms: (L, M), (L, M0), (L0, M), (L0, M0).

    ``arms`` are in the order (L0, M0), (L0, M), (L, M0), (L, M). Paired: from each match of
    four runs, clustered by seed. Unpaired: the difference of the four means, with the
    Welch–Satterthwaite degrees of freedom.
    """
    values = [arm[outcome].to_numpy(float) for arm in arms]
    if any(np.isnan(v).all() for v in values):
        return None
    if paired:
        matched = _matched(
            [arms[0][[*keys, "seed", outcome]]] + [a[[*keys, outcome]] for a in arms[1:]], keys
        )
        if len(matched):
            y = [matched[f"{outcome}@{k}"].to_numpy(float) for k in range(4)]
            at_reference, at_compared = y[1] - y[0], y[3] - y[2]
            did = at_compared - at_reference
            seed = matched["seed@0"].to_numpy()
            mean, _sd, low, high = mean_interval(did, clusters=seed)
            return {
                "n": int((~np.isnan(did)).sum()),
                "seeds": units(seed, did),
                "paired": True,
                "reference_mean": _nanmean(at_reference),
                "compared_mean": _nanmean(at_compared),
                "difference": mean,
                "ci_low": low,
                "ci_high": high,
                "hedges_g": math.nan,
            }
    finite = [v[~np.isnan(v)] for v in values]
    if any(v.size < 2 for v in finite):
        return None
    means = [float(v.mean()) for v in finite]
    variances = [float(v.var(ddof=1)) / v.size for v in finite]
    did = (means[3] - means[2]) - (means[1] - means[0])
    se = math.sqrt(sum(variances))
    df = (
        sum(variances) ** 2
        / sum(var**2 / (v.size - 1) for var, v in zip(variances, finite, strict=True))
        if se > 0
        else math.inf
    )
    half = float(special.stdtrit(df, 0.5 + LEVEL / 2)) * se if se > 0 else 0.0
    return {
        "n": min(v.size for v in finite),
        "seeds": sum(v.size for v in finite),
        "paired": False,
        "reference_mean": means[1] - means[0],
        "compared_mean": means[3] - means[2],
        "difference": did,
        "ci_low": did - half,
        "ci_high": did + half,
        "hedges_g": math.nan,
    }


def contrasts(
    runs: pd.DataFrame,
    levels: Mapping[str, Sequence[Any]],
    outcomes: Sequence[str],
    *,
    sampled: Sequence[str] = (),
    paired: bool = True,
) -> pd.DataFrame:
    """Every grid factor's contrasts, and their interactions with the governance mode.

    Args:
        runs: Finished runs: ``replication``, ``seed``, a column per grid factor and sampled
            key, and the outcomes.
        levels: Each grid factor's levels, in the experiment's order (the first is the
            reference); the mode is compared first when it is a factor.
        outcomes: The outcome columns to compare.
        sampled: Sampled keys (pooled; runs are matched on them too).
        paired: Whether runs share seeds by replication (common random numbers).

    Returns:
        One row per factor, stratum, level compared (and mode, for an interaction) and
        outcome, with the columns of :data:`CONTRAST_STATS` and a column per grid factor.
    """
    grid = list(levels)
    order = sorted(grid, key=lambda f: f != MODE)  # the mode's contrasts first
    keys = ["replication", *sampled]
    rows: list[dict[str, Any]] = []
    blank = dict.fromkeys(grid)
    for factor in order:
        first, *rest = levels[factor]
        for stratum, group in _strata(runs, [f for f in grid if f != factor]):
            arms = _by_level(group, factor, levels[factor])
            if arms[0].empty:
                continue
            for level, arm in zip(rest, arms[1:], strict=True):
                if arm.empty:
                    continue
                for outcome in outcomes:
                    values = _difference(arms[0], arm, outcome, keys, paired)
                    if values is not None:
                        rows.append(
                            _row(
                                {**blank, **stratum},
                                outcome,
                                values,
                                factor=factor,
                                reference=first,
                                compared=level,
                            )
                        )
    if MODE in grid:
        rows += _interactions(runs, levels, outcomes, keys, paired)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.reindex(columns=[*grid, *CONTRAST_STATS])
    # Empty in a plain difference's rows: text columns, never numbers.
    labels = ["by", "by_reference", "by_compared"]
    frame[labels] = frame[labels].astype(object)
    return frame


def _interactions(
    runs: pd.DataFrame,
    levels: Mapping[str, Sequence[Any]],
    outcomes: Sequence[str],
    keys: Sequence[str],
    paired: bool,
) -> list[dict[str, Any]]:
    """Each other factor's contrasts compared between each mode and the first mode."""
    grid = list(levels)
    modes = levels[MODE]
    rows = []
    blank = dict.fromkeys(grid)
    for factor in (f for f in grid if f != MODE):
        first, *rest = levels[factor]
        for stratum, group in _strata(runs, [f for f in grid if f not in (factor, MODE)]):
            by_mode = [_by_level(g, factor, levels[factor]) for g in _by_level(group, MODE, modes)]
            for k, level in enumerate(rest, start=1):
                for m, mode in enumerate(modes[1:], start=1):
                    arms = [by_mode[0][0], by_mode[m][0], by_mode[0][k], by_mode[m][k]]
                    if any(arm.empty for arm in arms):
                        continue
                    for outcome in outcomes:
                        values = _interaction(arms, outcome, keys, paired)
                        if values is not None:
                            rows.append(
                                _row(
                                    {**blank, **stratum},
                                    outcome,
                                    values,
                                    factor=factor,
                                    reference=first,
                                    compared=level,
                                    by=MODE,
                                    by_reference=modes[0],
                                    by_compared=mode,
                                )
                            )
    return rows


__all__ = ["CONTRAST_STATS", "MODE", "contrasts", "stored_level"]
