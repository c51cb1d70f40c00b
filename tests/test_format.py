"""One number format for the console, the report and the validation table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from relsim.analysis.facts import Effect, FactResult, PatternResult, Validation
from relsim.analysis.stats import Estimate, mean_interval
from relsim.analysis.summary import Summary
from relsim.presentation.format import (
    decimals,
    format_cell,
    format_difference,
    format_effect_size,
    format_estimate,
    format_number,
    format_value,
)
from relsim.presentation.tables import format_summary, format_validation

NAN = math.nan


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ((0.805,), 3),
        ((-0.5,), 3),
        ((1.0,), 2),
        ((9.99,), 2),
        ((10.0,), 1),
        ((-99.0,), 1),
        ((100.0,), 0),
        ((0.9, 1.1), 2),
        ((NAN,), 3),
        ((0.5, NAN, math.inf), 3),
        ((), 3),
    ],
)
def test_about_three_significant_digits_of_the_largest_number_shown(values, want):
    assert decimals(*values) == want


@pytest.mark.parametrize(
    ("estimate", "text"),
    [
        (Estimate("mean", 0.805, 0.797, 0.812), "0.805 [0.797, 0.812]"),
        (Estimate("mean", 9.6, 6.13, 13.07), "9.6 [6.1, 13.1]"),  # decimals of the largest
        (Estimate("mean", 148.2, 131.4, 165.0), "148 [131, 165]"),
        (Estimate("mean", -0.184), "-0.184 (no interval)"),
        (Estimate("mean", NAN), "–"),
        (Estimate("difference", 0.5268, 0.519, 0.535), "+0.527 [+0.519, +0.535]"),
        (Estimate("difference", 0.0, 0.0, 0.0), "+0.000 [+0.000, +0.000]"),
        (Estimate("difference", 0.001, -15.2, 15.3), "+0.0 [-15.2, +15.3]"),
        (Estimate("difference", -38.5, -44.8, -32.2), "-38.5 [-44.8, -32.2]"),
        (Estimate("share", 0.8333, 0.4365, 0.9699), "83% [44%, 97%]"),
        (Estimate("share", 0.0, 0.0, 0.3904), "0% [0%, 39%]"),
        (Estimate("share", NAN, NAN, NAN), "–"),
        (Estimate("km_median", 27.0, 9.0, NAN), "27 [9, ∞]"),
        (Estimate("km_median", 21.0, 19.0, 27.0), "21 [19, 27]"),
        (Estimate("km_median", NAN, 30.0, NAN), "not reached"),
        (Estimate("value", 0.2346), "0.235"),
        (Estimate("value", 0.05), "0.050"),
    ],
)
def test_each_kind_of_estimate_is_written_by_one_rule(estimate, text):
    assert format_estimate(estimate) == text


def test_a_mean_of_values_that_are_alike_shows_decimals_alike():
    mean, _sd, low, high = mean_interval([0.97, 0.98, 0.984, 0.986])
    assert format_estimate(Estimate("mean", mean, low, high)) == "0.980 [0.969, 0.991]"


def test_summary_rows_that_no_run_counts_say_why():
    share = {"outcome": "reached_all_training_heat_map", "statistic": "share", "n": 0}
    nothing = {"estimate": NAN, "ci_low": NAN, "ci_high": NAN}
    assert format_cell({**share, **nothing}) == "not introduced"
    compact = {"outcome": "months_to_compact", "statistic": "km_median", "n": 0, **nothing}
    assert format_cell(compact) == "no compact"
    median = {**compact, "n": 6}
    assert format_cell(median) == "not reached"
    mean = {"outcome": "disclosures", "statistic": "mean", "n": 6}
    assert format_cell({**mean, "estimate": 19.2, "ci_low": 16.3, "ci_high": 22.1}) == (
        "19.2 [16.3, 22.1]"
    )


def test_differences_effect_sizes_and_plain_numbers():
    row = pd.Series({"difference": 70.3, "ci_low": 63.3, "ci_high": 77.3})
    assert format_difference(row) == "+70.3 [+63.3, +77.3]"
    assert format_effect_size(19.194) == "+19.19"
    assert format_effect_size(NAN) == "–"
    assert format_effect_size(-math.inf) == "-∞"
    assert format_value(NAN) == "–"
    assert format_value(-0.0756, signed=True) == "-0.076"
    assert [format_number(v) for v in (0.0539, 1.69, True, NAN, 4)] == [
        "0.0539",
        "1.69",
        "yes",
        "–",
        "4",
    ]


def test_the_console_summary_and_the_report_write_a_cell_alike():
    cells = pd.DataFrame(
        [
            ("networked", "trust_in_regulator_final", "mean", 6, 0.8287, 0.03, 0.798, 0.859),
            ("networked", "disclosures", "mean", 6, 89.5, 8.0, 81.1, 97.9),
            ("networked", "compact_in_force", "share", 0, NAN, NAN, NAN, NAN),
        ],
        columns=[
            "governance.mode",
            "outcome",
            "statistic",
            "n",
            "estimate",
            "sd",
            "ci_low",
            "ci_high",
        ],
    )
    text = format_summary(Summary(cells, pd.DataFrame(), ["governance.mode"], 6, 0, 6))
    assert "0.829 [0.798, 0.859]" in text
    assert "89.5 [81.1, 97.9]" in text
    assert "no compact" in text
    for _, row in cells.iterrows():
        assert format_cell(row) in text


def test_the_validation_table_writes_each_part_of_an_effect():
    facts = [
        FactResult(
            1,
            "A fact",
            "share of runs",
            (
                Effect("networked", (Estimate("share", 0.7, 0.3968, 0.8922),)),
                Effect("hierarchical", (Estimate("share", 0.0, 0.0, 0.2775),)),
            ),
            False,
            "a rule",
        ),
        FactResult(
            2,
            "Another",
            "a difference",
            (Effect("", (Estimate("difference", 0.244, 0.199, 0.29), Estimate("value", NAN))),),
            True,
            "another rule",
            check="M1 writes it in",
        ),
    ]
    patterns = [
        PatternResult(
            "V1",
            "A pattern",
            "“words” (a source)",
            "a share",
            (Effect("", (Estimate("share", 0.9, 0.8, 0.95),)),),
            False,
            "a third rule",
        )
    ]
    lines = format_validation(Validation(facts, patterns), 10).splitlines()
    assert lines[0] == "Stylised facts (MODEL.md §5), 10 paired replications, 95% intervals"
    assert lines[2] == "FAILS   1. A fact"
    assert lines[3] == "         kind:     emergent"
    assert lines[5] == (
        "         effect:   networked: 70% [40%, 89%]; hierarchical: 0% [0%, 28%]"
        "   (holds if a rule)"
    )
    assert lines[7] == "         kind:     mechanism check (M1 writes it in)"
    assert lines[9] == "         effect:   +0.244 [+0.199, +0.290] / –   (holds if another rule)"
    assert lines[11] == "Validation: patterns of the case held out of calibration"
    assert lines[13] == "FAILS   V1 A pattern"
    assert lines[14] == "         source:   “words” (a source)"
    assert lines[-1] == "failed: 1, V1"


def _wide_summary(cells: int = 12) -> Summary:
    rows = []
    for k in range(cells):
        level = f"a rather long level name {k}"
        rows += [
            (level, "disclosures", "mean", 6, 6, 8.83 + k, 1.0, 7.71 + k, 9.96 + k),
            (level, "trust_in_regulator_final", "mean", 6, 6, 0.8, 0.03, 0.79, 0.81),
        ]
    rows[2] = ("a rather long level name 1", "disclosures", "mean", 6, 6, 11.0, 1.0, 9.0, 13.0)
    frame = pd.DataFrame(
        rows,
        columns=[
            "scenario.name",
            "outcome",
            "statistic",
            "n",
            "seeds",
            "estimate",
            "sd",
            "ci_low",
            "ci_high",
        ],
    )
    return Summary(frame, pd.DataFrame(), ["scenario.name"], 6 * cells, 0, 6 * cells)


@pytest.mark.parametrize("width", [60, 100, 160])
def test_the_console_summary_fits_the_width_it_is_given(width):
    text = format_summary(_wide_summary(), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    # Every cell is still there, in blocks of columns one under the other.
    assert text.count("disclosures") > 1
    for k in range(12):
        assert f"a rather long level name {k}" in text


def test_a_row_of_the_console_summary_has_one_precision_and_no_stray_header():
    text = format_summary(_wide_summary(2), width=200)
    line = next(row for row in text.splitlines() if row.startswith("disclosures"))
    # 8.83 [7.71, 9.96] beside 11 [9, 13] would mix precisions: both get one decimal.
    assert "8.8 [7.7, 10.0]" in line
    assert "11.0 [9.0, 13.0]" in line
    assert not any(row.strip() in ("outcome", "cell") for row in text.splitlines())
    assert "unit of inference: the seed" in text


def test_a_contrast_that_one_stratum_cannot_have_is_a_dash_not_nan():
    # Board mates exist only where a board meets: no contrast row in the hierarchical stratum.
    common = {
        "factor": "governance.compact.enabled",
        "reference": True,
        "compared": False,
        "by": None,
        "by_reference": None,
        "by_compared": None,
        "n": 8,
        "seeds": 8,
        "paired": True,
        "reference_mean": 0.5,
        "compared_mean": 0.4,
        "difference": -0.1,
        "ci_low": -0.2,
        "ci_high": 0.0,
        "hedges_g": -0.5,
    }
    rows = [
        {"governance.mode": mode, "governance.compact.enabled": None, **common, "outcome": o}
        for mode, outcomes in [
            ("hierarchical", ["trust_in_regulator_final"]),
            ("networked", ["trust_in_regulator_final", "board_mates_adopted_daily_huddles"]),
        ]
        for o in outcomes
    ]
    comparison = pd.DataFrame(rows)
    summary = Summary(_wide_summary(2).cells, comparison, ["scenario.name"], 16, 0, 16)
    text = format_summary(summary, width=200)
    line = next(r for r in text.splitlines() if r.startswith("board_mates_adopted_daily"))
    assert "NaN" not in text
    assert "–" in line
