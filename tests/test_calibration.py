"""``relsim calibrate``: the statistics, the calibration file's checks, recovery of a known
parameter, and the same posterior for the same seed (any workers, resumed or not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relsim import ScenarioError
from relsim.cli import main as relsim
from relsim.errors import RelsimError
from relsim.model.batch import run_replications
from relsim.runs.calibration import calibrate, read_posterior, scenario_at, write_manifest
from relsim.runs.calibration_file import bundled_calibrations, load_calibration
from relsim.runs.executors import LocalPool, Serial
from relsim.runs.patterns import (
    STATISTICS,
    UNDEFINED_DISTANCE,
    window_distance,
)

#: A short version of the case (the defaults are the case), so that evaluations are cheap.
SHORT_CASE = """
[scenario]
name = "short case"
months = {months}
[partner]
end_month = {months}
"""

CALIBRATION = """
[calibration]
scenario = "short.toml"
seed = {seed}
populations = {populations}
population_size = {size}
replications = {replications}

[parameters."governance.compact.clause_hours"]
prior = "uniform"
low = 4
high = 48

[targets.compact]
statistic = "compact_month"
window = [{low}, {high}]
source = '"nearly 12 months" (test)'
"""


def write_calibration(tmp_path: Path, months: int = 30, **values: object) -> Path:
    """A calibration of clause_hours on the short case, with the given budget and window."""
    (tmp_path / "short.toml").write_text(SHORT_CASE.format(months=months), encoding="utf-8")
    settings = {"seed": 7, "populations": 2, "size": 10, "replications": 2, "low": 10, "high": 14}
    settings.update(values)
    path = tmp_path / "calibration.toml"
    path.write_text(CALIBRATION.format(**settings), encoding="utf-8")
    return path


#: The bundled calibration, loaded once.
CASE = load_calibration("case_calibration")

# ---------------------------------------------------------------------------------------------
# Statistics on hand-made series
# ---------------------------------------------------------------------------------------------


def series(**columns: list[object]) -> dict[str, list[object]]:
    months = len(next(iter(columns.values())))
    return {"month": list(range(months)), **columns}


def test_compact_month_is_the_median_first_month_in_force_with_never_counted_past_the_horizon():
    base = CASE.base
    runs = [
        series(compact_state=["negotiating", "negotiating", "in_force", "in_force"]),
        series(compact_state=["negotiating", "in_force", "negotiating", "in_force"]),
        series(compact_state=["negotiating"] * 4),  # never: month 4, past the horizon
    ]
    assert STATISTICS["compact_month"].compute(runs, base, None) == 2.0
    assert STATISTICS["compact_month"].compute(runs[2:], base, None) == 4.0


def test_heat_map_by_month_counts_runs_where_every_trust_adopted_by_then():
    base = CASE.base  # five trusts
    early = series(adopters_training_heat_map=[1, 5, 4, 4])  # all five at month 1, then one left
    late = series(adopters_training_heat_map=[1, 2, 3, 5])
    never = series(adopters_training_heat_map=[1, 4, 4, 4])
    stat = STATISTICS["heat_map_all_by_month"].compute
    assert stat([early, late, never], base, 2) == pytest.approx(1 / 3)
    assert stat([early, late, never], base, 3) == pytest.approx(2 / 3)


def test_attendance_mean_is_over_meetings_only():
    base = CASE.base
    runs = [
        series(attendance_rate=[np.nan, 1.0, 0.6]),
        series(attendance_rate=[np.nan, 0.8, np.nan]),
    ]
    assert STATISTICS["attendance_mean"].compute(runs, base, None) == pytest.approx(0.8)


def test_trust_rise_share_by_month_and_undefined_without_a_rise():
    base = CASE.base
    rising = {"mean_trust_in_regulator": [0.2 + 0.01 * m for m in range(61)]}
    flat = {"mean_trust_in_regulator": [0.3] * 61}
    stat = STATISTICS["trust_rise_share_by_month"].compute
    assert stat([rising], base, 12) == pytest.approx(12 / 36)
    assert np.isnan(stat([flat], base, 12))
    assert window_distance(float("nan"), 0, 1) == UNDEFINED_DISTANCE


def test_window_distance_is_zero_inside_and_in_window_widths_outside():
    assert window_distance(12.0, 10, 14) == 0.0
    assert window_distance(10.0, 10, 14) == 0.0
    assert window_distance(16.0, 10, 14) == pytest.approx(0.5)
    assert window_distance(2.0, 10, 14) == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------
# The calibration file
# ---------------------------------------------------------------------------------------------


def test_the_bundled_calibration_loads_and_every_target_quotes_its_source():
    assert "case_calibration" in bundled_calibrations()
    calibration = CASE
    assert {t.statistic for t in calibration.targets} == set(STATISTICS)
    for target in calibration.targets:
        assert '"' in target.source
        assert "BMJ" in target.source or "Core Insights" in target.source
    assert len(calibration.priors) >= 8


BAD = [
    ("[calibration]\nseed = 1\n", "calibration.scenario", "is required"),
    ("[calibration]\nscenario = 'nope'\n", "calibration.scenario", "no such scenario"),
    ("[calibrations]\n", "calibrations", "unknown key"),
    (
        "[calibration]\nscenario = 'nhs_vmi_partnership'\npopulation_size = 0\n",
        "calibration.population_size",
        "between 2 and",
    ),
    ("[calibration]\nscenario = 'nhs_vmi_partnership'\n", "parameters", "at least one"),
]

GOOD_TOP = "[calibration]\nscenario = 'nhs_vmi_partnership'\n"
TARGET = '[targets.c]\nstatistic = "compact_month"\nwindow = [10, 14]\nsource = "s"\n'
PARAM = '[parameters."governance.compact.clause_hours"]\nlow = 4\nhigh = 48\n'

BAD += [
    (
        GOOD_TOP + '[parameters."governance.compact.clause_hour"]\nlow = 4\nhigh = 48\n' + TARGET,
        'parameters."governance.compact.clause_hour"',
        "unknown key",
    ),
    (
        GOOD_TOP
        + '[parameters."governance.compact.clause_hours"]\nlow = 4\nhigh = 2000\n'
        + TARGET,
        'parameters."governance.compact.clause_hours".high',
        "1000",
    ),
    (
        GOOD_TOP + '[parameters."governance.compact.clause_hours"]\nlow = 8\nhigh = 4\n' + TARGET,
        'parameters."governance.compact.clause_hours"',
        "low < high",
    ),
    (
        GOOD_TOP + '[parameters."governance.mode"]\nlow = 4\nhigh = 8\n' + TARGET,
        'parameters."governance.mode"',
        "numeric",
    ),
    (
        GOOD_TOP + PARAM + '[parameters."governance.compact.clause_hours".x]\n',
        'parameters."governance.compact.clause_hours".x',
        "unknown key",
    ),
    (GOOD_TOP + PARAM, "targets", "at least one"),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "median"\nwindow = [1, 2]\nsource = "s"\n',
        "targets.c.statistic",
        "compact_month",
    ),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "compact_month"\nwindow = [14, 10]\n'
        'source = "s"\n',
        "targets.c.window",
        "low <= high",
    ),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "compact_month"\nwindow = [10, 14]\n',
        "targets.c.source",
        "is required",
    ),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "heat_map_all_by_month"\n'
        'window = [0.5, 1]\nsource = "s"\n',
        "targets.c.month",
        "needs a month from 1 to 60",
    ),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "trust_rise_share_by_month"\nmonth = 48\n'
        'window = [0, 0.5]\nsource = "s"\n',
        "targets.c.month",
        "from 1 to 36",
    ),
    (
        GOOD_TOP + PARAM + '[targets.c]\nstatistic = "attendance_mean"\nmonth = 4\n'
        'window = [0.8, 1]\nsource = "s"\n',
        "targets.c.month",
        "takes no month",
    ),
    (
        GOOD_TOP
        + '[parameters."governance.board.positivity_floor"]\nlow = 0.2\nhigh = 0.8\n'
        + '[parameters."governance.board.positivity_ceiling"]\nlow = 0.7\nhigh = 1\n'
        + TARGET,
        "parameters",
        "not valid scenarios",
    ),
]


@pytest.mark.parametrize(("text", "field", "message"), BAD)
def test_bad_calibration_files_give_one_line_naming_file_and_field(
    tmp_path: Path, text: str, field: str, message: str
):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_calibration(path)
    error = caught.value
    assert (error.source, error.field) == (str(path), field)
    assert message in error.message
    assert "\n" not in str(error)


def test_the_command_line_refuses_a_bad_file_with_status_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD_TOP + PARAM, encoding="utf-8")
    assert relsim(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path}: targets: " in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# Running calibrations
# ---------------------------------------------------------------------------------------------


def weighted_interval(values: np.ndarray, weights: np.ndarray, mass: float) -> tuple[float, float]:
    """The central interval holding ``mass`` of a weighted sample."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    tail = (1 - mass) / 2
    lo = values[order][np.searchsorted(cumulative, tail)]
    hi = values[order][min(np.searchsorted(cumulative, 1 - tail), len(values) - 1)]
    return float(lo), float(hi)


def test_calibration_recovers_a_known_clause_hours(tmp_path: Path):
    """Simulate at clause_hours = 24, put the window around the statistic, calibrate: the truth
    lies in the 90% posterior interval, and the interval is much narrower than the prior."""
    truth, key, months = 24.0, "governance.compact.clause_hours", 30
    budget = {"size": 30, "populations": 3, "replications": 12}
    path = write_calibration(tmp_path, months=months, **budget)
    calibration = load_calibration(path)
    at_truth = scenario_at(calibration.base, calibration.priors, {key: truth})
    observed = STATISTICS["compact_month"].compute(
        run_replications(at_truth, list(range(1000, 1040))), at_truth, None
    )
    path = write_calibration(
        tmp_path,
        months=months,
        low=observed - 1.5,
        high=observed + 1.5,
        **budget,
    )
    calibration = load_calibration(path)
    calibrate(calibration, tmp_path / "out", Serial())
    posterior, _, diagnostics = read_posterior(tmp_path / "out")
    values, weights = posterior[key].to_numpy(), posterior["weight"].to_numpy()
    lo, hi = weighted_interval(values, weights, 0.9)
    assert lo <= truth <= hi, (lo, hi, observed)
    assert hi - lo < 0.5 * (48 - 4), (lo, hi)
    assert diagnostics["epsilon"].is_monotonic_decreasing


def posterior_bytes(out: Path) -> tuple[bytes, ...]:
    names = ("posterior.parquet", "posterior_statistics.parquet", "generations.csv")
    return tuple((out / name).read_bytes() for name in names)


def test_same_seed_same_posterior_bytes_on_any_workers_and_after_resume(tmp_path: Path):
    path = write_calibration(tmp_path, months=20)
    calibration = load_calibration(path)
    calibrate(calibration, tmp_path / "serial", Serial())
    with LocalPool(2) as pool:
        calibrate(calibration, tmp_path / "resumed", pool, populations=1)
        calibrate(calibration, tmp_path / "resumed", pool, resume=True)
    assert posterior_bytes(tmp_path / "serial") == posterior_bytes(tmp_path / "resumed")
    assert len(pd.read_csv(tmp_path / "serial" / "generations.csv")) == 2

    other = load_calibration(write_calibration(tmp_path, months=20, seed=8))
    calibrate(other, tmp_path / "other", Serial())
    assert posterior_bytes(tmp_path / "other")[0] != posterior_bytes(tmp_path / "serial")[0]


def test_outputs_are_never_overwritten_and_resume_refuses_another_calibration(tmp_path: Path):
    path = write_calibration(tmp_path, months=12, populations=1, size=4, low=0, high=13)
    calibration = load_calibration(path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(RelsimError, match="refusing to overwrite"):
        calibrate(calibration, out, Serial())
    with pytest.raises(RelsimError, match="nothing to resume"):
        calibrate(calibration, out, Serial(), resume=True)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"

    done = tmp_path / "done"
    calibrate(calibration, done, Serial())
    other = load_calibration(write_calibration(tmp_path, months=12, populations=1, size=4, seed=9))
    with pytest.raises(RelsimError, match="different calibration"):
        calibrate(other, done, Serial(), resume=True)


def test_the_command_writes_posterior_diagnostics_figures_and_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = write_calibration(tmp_path, months=12, populations=2, size=4, low=0, high=13)
    out = tmp_path / "out"
    assert relsim(["calibrate", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "generation 1/2: epsilon" in err
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "abc.db",
        "calibration.json",
        "generations.csv",
        "manifest.json",
        "posterior.parquet",
        "posterior_statistics.parquet",
        "figures/marginals.png",
        "figures/pairs.png",
        "figures/targets.png",
    } <= names
    manifest = pd.read_json(out / "manifest.json", typ="series")
    assert manifest["relsim"] == "calibration"
    assert manifest["seed"] == 7
    assert "posterior.parquet" in manifest["files"]
    assert relsim(["calibrate", str(path), "--out", str(out)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    # The calibration's report: its targets with their sources, and shares that the weighted
    # statistics give.
    assert relsim(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "relsim calibration report" in page
    assert "Targets: the patterns of the case" in page
    assert "&quot;nearly 12 months&quot; (test)" in page
    stats = pd.read_parquet(out / "posterior_statistics.parquet")
    inside = stats["compact"].between(0, 13)
    share = stats["weight"][inside].sum() / stats["weight"].sum()
    assert f"<td>{share:.0%}</td>" in page
    assert page.count("<svg") == 2  # marginals and targets; pairs stays a file


def test_a_sweep_drawing_from_a_calibration_reports_it(tmp_path: Path):
    """The posterior a calibration writes is read as it is (particle column and all) by an
    experiment's [posterior], and the sweep's report includes the calibration's section."""
    from relsim.presentation.report import build_report
    from relsim.runs.experiment import load_experiment
    from relsim.runs.posterior import read_posterior as read_particles
    from relsim.runs.progress import Silent
    from relsim.runs.runner import run_sweep

    path = write_calibration(tmp_path, months=12, populations=1, size=4, low=0, high=13)
    calibration = load_calibration(path)
    out = tmp_path / "calibration"
    calibrate(calibration, out, Serial())
    write_manifest(out, calibration)
    assert read_particles(out).names == ("governance.compact.clause_hours",)
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        '[experiment]\nscenario = "short.toml"\nreplications = 3\nseed = 3\n'
        '[posterior]\nfile = "calibration"\n',
        encoding="utf-8",
    )
    sweep = tmp_path / "sweep"
    run_sweep(load_experiment(experiment), sweep, executor=Serial(), progress=Silent())
    page = build_report(sweep)
    assert "The calibration the parameters came from" in page
    assert "Parameters from a posterior" in page
    assert "Targets: the patterns of the case" in page
    # A calibration run again into the same place is another one: not shown as the source.
    particles = pd.read_parquet(out / "posterior.parquet")
    particles["weight"] = np.arange(1.0, len(particles) + 1.0)
    particles.to_parquet(out / "posterior.parquet", index=False)
    page = build_report(sweep)
    assert "has changed since the sweep drew from it" in page
    assert "Targets: the patterns of the case" not in page


def test_the_defaults_of_informed_parameters_are_the_bundled_posteriors_medians():
    """Deliverable 3: a parameter the case calibration informs (its posterior 90% interval
    under 0.6 of the prior's) has the posterior median as its default, to the precision
    written, and says "calibrated"; one it leaves at its prior says so."""
    from relsim.presentation.calibration_report import INFORMED, parameter_table, read_record
    from relsim.scenario.reference import schema_rows

    directory = bundled_calibrations()["case_calibration"].parent / "case_calibration"
    record = read_record(directory)
    assert record.name == CASE.name
    assert {p.key for p in record.priors} == {p.key for p in CASE.priors}
    table = parameter_table(read_posterior(directory)[0], record)
    rows = {r["key"]: r for r in schema_rows()}
    informed = table[table["contraction"] < INFORMED]
    assert set(informed["key"]) == {
        "governance.compact.clause_hours",
        "governance.board.showcase_probability",
    }
    for entry in table.to_dict("records"):
        row = rows[entry["key"]]
        if entry["contraction"] < INFORMED:
            assert str(row["source"]).startswith("calibrated"), entry["key"]
            assert row["default"] == pytest.approx(entry["median"], rel=0.005), entry["key"]
            assert f"{row['default']:g}" in str(row["source"]), entry["key"]
        else:
            assert "the case calibration leaves it at its prior" in str(row["source"])
