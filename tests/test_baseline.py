"""A pinned baseline: the monthly series of two small runs, kept in tests/baseline/.

Any change to simulation results fails here, loudly. When a change is intended, regenerate the
files with ``RELSIM_UPDATE_BASELINE=1 .venv/bin/pytest tests/test_baseline.py``, and record the
change in CHANGELOG.md, marked as one that alters results.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim import simulate

HERE = Path(__file__).parent / "baseline"
RUNS = {
    "nhs_vmi_partnership-seed7": ("nhs_vmi_partnership", 7),
    "hierarchical_baseline-seed7": ("hierarchical_baseline", 7),
}


@pytest.mark.parametrize("name", RUNS)
def test_results_match_the_pinned_baseline(name):
    scenario, seed = RUNS[name]
    result = simulate(scenario, seed=seed)
    path = HERE / f"{name}.months.csv"
    if os.environ.get("RELSIM_UPDATE_BASELINE"):
        result.months.to_csv(path, index=False, float_format="%.17g")
    pinned = pd.read_csv(path, keep_default_na=False, na_values=[""])
    now = pd.read_csv(
        pd.io.common.StringIO(result.months.to_csv(index=False, float_format="%.17g")),
        keep_default_na=False,
        na_values=[""],
    )
    assert list(now.columns) == list(pinned.columns)
    for column in pinned.columns:
        if pd.api.types.is_float_dtype(pinned[column]):
            np.testing.assert_allclose(
                now[column], pinned[column], rtol=1e-12, atol=1e-15, err_msg=column
            )
        else:
            assert now[column].tolist() == pinned[column].tolist(), column
