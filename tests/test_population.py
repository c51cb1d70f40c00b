"""Generated populations: counts, region sizes, distributions, clear errors for the impossible."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from relsim import ScenarioError, load_scenario
from relsim.scenario import with_overrides
from relsim.scenario.population import generate, region_count
from relsim.scenario.schema import Distribution, Population

ORIGINS = {f"practices[{k}].origin": "T001" for k in range(3)}


def population(**overrides):
    """A scenario with a generated population (the default practices start at T001)."""
    settings = {"population.trusts": 60, **ORIGINS}
    settings.update({f"population.{key}": value for key, value in overrides.items()})
    return load_scenario(None, settings)


def test_counts_names_and_region_sizes():
    scenario = population(trusts=210, regions=42, region_size=[3, 8])
    assert len(scenario.trusts) == 210
    assert scenario.trust_names[:2] == ("T001", "T002")
    assert scenario.trust_names[-1] == "T210"
    assert len(set(scenario.trust_names)) == 210
    sizes = Counter(t.region for t in scenario.trusts)
    assert len(sizes) == 42
    assert scenario.region_names == tuple(f"R{r:02d}" for r in range(1, 43))
    assert sum(sizes.values()) == 210
    assert min(sizes.values()) >= 3
    assert max(sizes.values()) <= 8
    # Trusts come region by region.
    regions = [t.region for t in scenario.trusts]
    assert regions == sorted(regions)


@pytest.mark.parametrize(
    ("trusts", "size", "expected"),
    [(3, [5, 8], 1), (8, [5, 8], 1), (10, [5, 8], 2), (15, [5, 8], 2), (40, [5, 8], 5)],
)
def test_regions_zero_means_as_few_as_fit(trusts, size, expected):
    scenario = population(trusts=trusts, regions=0, region_size=size)
    assert len(scenario.region_names) == expected
    assert region_count(scenario.population) == expected
    if trusts >= size[0]:
        assert all(
            size[0] <= n <= size[1] for n in Counter(t.region for t in scenario.trusts).values()
        )


def test_distributions_have_their_mean_sd_and_bounds():
    """Over 5000 trusts the sample mean and sd are within 3 standard errors of the targets."""
    pop = Population(
        trusts=5000,
        regions=1000,
        readiness=Distribution(mean=0.6, sd=0.12, low=0.2, high=0.95),
        initial_coverage=Distribution(mean=0.05, sd=0.01, low=0.02, high=0.1),
        quality=Distribution(mean=0.5, sd=0.0, low=0.4, high=0.6),
    )
    trusts = generate(pop)
    for attribute, d in (("readiness", pop.readiness), ("initial_coverage", pop.initial_coverage)):
        values = np.array([getattr(t, attribute) for t in trusts])
        assert values.min() >= d.low
        assert values.max() <= d.high
        assert abs(values.mean() - d.mean) < 3 * d.sd / np.sqrt(values.size)
        # The sd of a sample sd is about sd / sqrt(2n); allow 4 of those.
        assert abs(values.std(ddof=1) - d.sd) < 4 * d.sd / np.sqrt(2 * values.size)
    assert {t.quality for t in trusts} == {0.5}  # sd = 0: every trust at the mean


def test_population_is_a_function_of_its_own_seed():
    a, b = population(seed=7), population(seed=7)
    assert a.trusts == b.trusts
    assert population(seed=8).trusts != a.trusts
    # Changing one distribution leaves the draws of the others alone.
    c = population(seed=7, **{"readiness.mean": 0.7})
    assert [t.quality for t in c.trusts] == [t.quality for t in a.trusts]
    assert [t.readiness for t in c.trusts] != [t.readiness for t in a.trusts]


def test_generated_trusts_are_not_listed_and_read_back_the_same():
    scenario = population(trusts=30, regions=5)
    data = scenario.to_dict()
    assert data["trusts"] == []
    again = load_scenario(None, {"population": data["population"], **ORIGINS})
    assert again.trusts == scenario.trusts
    assert (
        again.digest()
        == load_scenario(
            None, {**ORIGINS, "population.trusts": 30, "population.regions": 5}
        ).digest()
    )
    bigger = with_overrides(scenario, {"population.trusts": 40})
    assert len(bigger.trusts) == 40


def test_initial_coverage_of_a_trust_rescales_the_draws():
    from relsim import RegulationModel

    scenario = population(trusts=12, regions=2)
    model = RegulationModel(scenario, rng=3)
    means = model.state.coverage.mean(axis=1)
    wanted = np.array([t.initial_coverage for t in scenario.trusts])
    # Twelve uniform departments: the row mean is within 0.5 of the wanted mean, relatively.
    np.testing.assert_allclose(means, wanted, rtol=0.5)
    assert np.corrcoef(means, wanted)[0, 1] > 0.5


IMPOSSIBLE = [
    (
        {"population.trusts": 400, "population.regions": 42},
        "population.trusts: 400 trusts do not fit in 42 regions of at most 8 trusts",
    ),
    (
        {"population.trusts": 100, "population.regions": 42},
        "population.trusts: 100 trusts cannot fill 42 regions of at least 3 trusts",
    ),
    (
        {"population.trusts": 9, "population.region_size": [5, 8]},
        "population.trusts: 9 trusts cannot fill 2 regions of at least 5 trusts",
    ),
    (
        {"population.trusts": 10, "population.regions": 11},
        "population.regions: must not exceed population.trusts (10) (got 11)",
    ),
    ({"population.regions": 4}, "population.regions: needs population.trusts > 0"),
    (
        {"population.trusts": 20, "population.readiness.sd": 0.4},
        "population.readiness.sd: must be below 0.35 for a distribution on [0.2, 0.9] "
        "with mean 0.55",
    ),
    (
        {"population.trusts": 20, "population.quality.mean": 0.9},
        "population.quality.mean: must be between low (0.45) and high (0.65) (got 0.9)",
    ),
    (
        {"population.trusts": 20, "population.initial_coverage.low": 0.2},
        "population.initial_coverage.low: must not exceed high (0.1) (got 0.2)",
    ),
    (
        {"population.trusts": 20, "population.region_size": [8, 3]},
        "population.region_size: expected [low, high] with low <= high (got [8, 3])",
    ),
    ({"population.trusts": -1}, "population.trusts: must be between 0 and 10000 (got -1)"),
    (
        {"population.trusts": 20, "population.size": 3},
        "population.size: unknown key (population has: trusts, regions, region_size",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), IMPOSSIBLE)
def test_impossible_populations_are_one_clear_error(overrides, message):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(None, {**ORIGINS, **overrides}, override_source="--set")
    assert str(caught.value).startswith(f"--set: {message}")
    assert "\n" not in str(caught.value)


def test_an_override_that_makes_the_files_population_impossible_is_blamed(tmp_path):
    """The file's 42 regions are fine for its 210 trusts; --set trusts=20 makes them wrong."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario("england_system", {"population.trusts": 20}, override_source="--set")
    assert str(caught.value) == (
        "--set: population.regions: must not exceed population.trusts (20) (got 42)"
    )
    # A file whose own population is impossible is still blamed itself.
    path = tmp_path / "pop.toml"
    path.write_text("[population]\ntrusts = 5\nregions = 6\n")
    with pytest.raises(ScenarioError, match=r"pop.toml: population.regions: must not exceed"):
        load_scenario(path, {"scenario.months": 12}, override_source="--set")


def test_listed_trusts_and_a_population_conflict(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text('[population]\ntrusts = 20\n\n[[trusts]]\nname = "North"\n')
    with pytest.raises(ScenarioError, match=r"both.toml: trusts: lists trusts, but population"):
        load_scenario(path)
    # An origin that is not among the generated trusts names how many there are.
    with pytest.raises(
        ScenarioError, match=r"\(20 trusts: 'T001' \.\.\. 'T020'\) \(got 'Trust B'\)"
    ):
        load_scenario("nhs_vmi_partnership", {"population.trusts": 20})


def test_the_command_line_reports_an_impossible_population_and_writes_nothing(tmp_path):
    path = tmp_path / "pop.toml"
    path.write_text(
        "[population]\ntrusts = 50\nregions = 5\n\n"
        + "".join(f'[[practices]]\nname = "p{k}"\norigin = "T001"\n\n' for k in range(2))
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "relsim.cli",
            "run",
            str(path),
            "--out",
            str(out),
            "--set",
            "population.trusts=60",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "relsim: --set: population.trusts: 60 trusts do not fit in 5 regions of at most 8 "
        "trusts (at most 40); change population.regions or population.region_size"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # A trust alone in its region would have no peers (its peer trust was counted as 0).
        (
            {"population.trusts": 60, "population.region_size": [1, 8], **ORIGINS},
            "population.region_size[0]",
            "must be between 2 and",
        ),
        ({"trusts[0].region": "N"}, "trusts[1].region", "every trust needs a region"),
        (
            {f"trusts[{i}].region": r for i, r in enumerate("NNMMK")},
            "trusts[4].region",
            "region 'K' has one trust",
        ),
    ],
)
def test_every_region_has_peers_and_regions_are_all_or_none(overrides, field, message):
    with pytest.raises(ScenarioError, match=rf"{re.escape(field)}: {message}"):
        load_scenario("nhs_vmi_partnership", overrides)


def test_listed_trusts_in_regions_of_two_or_more_load():
    scenario = load_scenario(
        "nhs_vmi_partnership", {f"trusts[{i}].region": r for i, r in enumerate("NNMMM")}
    )
    assert scenario.region_names == ("N", "M")
