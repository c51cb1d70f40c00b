"""Scenario files: defaults, merging, overrides, and every kind of bad input named clearly."""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import relsim
from relsim import ScenarioError, bundled_scenarios, load_scenario
from relsim.scenario import (
    GOVERNANCE_MODES,
    MAX_MONTHS,
    Scenario,
    parse_value,
    scenario_from_dict,
    schema_rows,
    with_overrides,
)

LAYER = Path(relsim.__file__).parent / "scenario"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(source, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides, override_source="--set")
    message = str(info.value)
    assert "\n" not in message
    return info.value


def test_defaults_are_the_partnership():
    s = load_scenario()
    assert s.months == 60
    assert s.governance.mode == "hybrid"  # the case: a board inside positional regulation
    assert s.governance.board.hours == 6
    assert s.governance.compact.clauses == 6
    assert s.trust_dynamics.loss_ratio == 3.0
    assert len(s.trusts) == 5
    assert "training_heat_map" in s.practice_names
    assert len(s.practices) >= 3


def test_every_bundled_scenario_loads_and_the_four_required_exist():
    bundled = bundled_scenarios()
    assert {"nhs_vmi_partnership", "hierarchical_baseline", "pressure_shock", "no_compact"} <= set(
        bundled
    )
    modes = {name: load_scenario(name).governance.mode for name in bundled}
    assert modes["hierarchical_baseline"] == "hierarchical"
    assert modes["nhs_vmi_partnership"] == "hybrid"
    assert load_scenario("no_compact").governance.compact.enabled is False
    assert load_scenario("pressure_shock").pressure.shocks


def test_a_file_states_only_what_differs(tmp_path):
    s = load_scenario(write(tmp_path, "[pressure]\nbaseline = 0.5\n"))
    assert s.pressure.baseline == 0.5
    assert s.pressure.reversion == Scenario().pressure.reversion
    assert s.trusts == Scenario().trusts


def test_overrides_use_dotted_keys_and_list_indices():
    s = load_scenario(
        "nhs_vmi_partnership",
        {"governance.mode": "hierarchical", "trusts[0].readiness": 0.9, "scenario.months": 24},
    )
    assert s.governance.mode == "hierarchical"
    assert s.trusts[0].readiness == 0.9
    assert s.months == 24


def test_scenarios_are_frozen_and_hash_their_content():
    s = load_scenario()
    with pytest.raises(AttributeError):
        s.scenario = None  # type: ignore[misc]
    assert s.digest() == load_scenario().digest()
    assert s.digest() != with_overrides(s, {"pressure.baseline": 0.31}).digest()


def test_resolved_scenario_round_trips_through_a_dict():
    s = load_scenario("pressure_shock")
    assert scenario_from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("[pressure]\nbaseline = 0.3\nbasline = 0.4\n", "pressure.basline", "unknown key"),
        ("[governance.board]\nhourz = 6\n", "governance.board.hourz", "unknown key"),
        ("[[trusts]]\nname = 'A'\nreadyness = 0.5\n", "trusts[0].readyness", "unknown key"),
        ("[nonsense]\nx = 1\n", "nonsense", "unknown key"),
        ("[pressure]\nbaseline = 'high'\n", "pressure.baseline", "expected a number"),
        ("[scenario]\nmonths = 6.5\n", "scenario.months", "expected a whole number"),
        ("[governance.compact]\nenabled = 'yes'\n", "governance.compact.enabled", "true or false"),
        ("[pressure]\nbaseline = nan\n", "pressure.baseline", "finite"),
        ("[pressure]\nbaseline = inf\n", "pressure.baseline", "finite"),
        ("[trust_dynamics]\nloss_ratio = 0.5\n", "trust_dynamics.loss_ratio", "between 1 and 10"),
        (
            "[[trusts]]\nname = 'A'\nreadiness = 1.7\n",
            "trusts[0].readiness",
            "must be between 0 and 1 (got 1.7)",
        ),
        (f"[scenario]\nmonths = {MAX_MONTHS + 1}\n", "scenario.months", f"and {MAX_MONTHS}"),
        ("[scenario]\nmonths = 0\n", "scenario.months", "between 1"),
        (
            "[[trusts]]\nname = 'A'\n[[trusts]]\nname = 'A'\n",
            "trusts[1].name",
            "duplicate trust name",
        ),
        (
            "[[practices]]\nname = 'huddles'\norigin = 'Nowhere'\n",
            "practices[0].origin",
            "must be one of the trusts",
        ),
        ("[governance]\nmode = 'anarchy'\n", "governance.mode", "must be one of"),
        ("[[trusts]]\nreadiness = 0.5\n", "trusts[0].name", "is required"),
        ("trusts = []\n", "trusts", "at least one trust"),
        ("[training]\ninitial_coverage = [0.3, 0.1]\n", "training.initial_coverage", "low <= high"),
        ("[partner]\nstart_month = 10\nend_month = 5\n", "partner.end_month", "must not be before"),
        ("[pressure]\nshocks = 3\n", "pressure.shocks", "expected a list"),
        ("[[practices]]\nname = '2fast'\norigin = 'Trust A'\n", "practices[0].name", "letters"),
    ],
)
def test_bad_values_are_named_by_file_and_dotted_field(tmp_path, text, field, expected):
    path = write(tmp_path, text)
    error = error_of(path)
    assert error.source == str(path)
    assert error.field == field
    assert expected in error.message
    assert str(error).startswith(f"{path}: {field}: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b"   \n\n", "file is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"[pressure\nbaseline = 1\n", "invalid TOML"),
        (b"\xff\xfe[pressure]", "is UTF-16 text"),
        (
            "[pressure]\nbaseline = 0.4 # caf\u00e9\n".encode("latin-1"),
            "not UTF-8 text (byte 0xE9 on line 2",
        ),
        (b"# only a comment\n", "holds no settings"),
    ],
)
def test_unreadable_files_get_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    error = error_of(path)
    assert expected in str(error)
    assert str(error).startswith(str(path))


def test_a_missing_file_or_unknown_bundled_name_lists_what_exists(tmp_path):
    error = error_of(tmp_path / "nope.toml")
    assert "no such file or bundled scenario" in str(error)
    assert "nhs_vmi_partnership" in str(error)
    assert "is a directory" in str(error_of(tmp_path)) or "no such" in str(error_of(tmp_path))


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"pressure.basline": 0.3}, "pressure.basline", "unknown key"),
        ({"pressure.baseline.x": 1}, "pressure.baseline.x", "no sub-keys"),
        ({"pressure.baseline": "high"}, "pressure.baseline", "expected a number"),
        ({"trusts[7].readiness": 0.3}, "trusts[7].readiness", "out of range"),
        ({"governance.mode": "anarchy"}, "governance.mode", "must be one of"),
        ({"scenario..months": 3}, "scenario..months", "not a valid key"),
    ],
)
def test_bad_overrides_name_the_override(overrides, field, expected):
    error = error_of("nhs_vmi_partnership", overrides)
    assert error.source == "--set"
    assert error.field == field
    assert expected in error.message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.4", 0.4),
        ("true", True),
        ("12", 12),
        ("[1, 2]", [1, 2]),
        ("hierarchical", "hierarchical"),
    ],
)
def test_command_line_values_are_read_as_toml_else_text(text, value):
    assert parse_value(text) == value


def test_every_parameter_has_a_meaning_and_numeric_ones_a_range():
    rows = schema_rows()
    assert len(rows) > 60
    for row in rows:
        assert row["doc"], row["key"]
        default = row["default"]
        if isinstance(default, float) and not math.isnan(default):
            assert row["range"], row["key"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("governance.board.hours", 0, "must be greater than 0 and at most 24 (got 0.0)"),
        ("pressure.baseline", -1, "must be between 0 and 10 (got -1.0)"),
        (
            "population.seed",
            2**63,
            f"must be between 0 and {2**63 - 1} (got {2**63})",
        ),
    ],
)
def test_range_errors_say_whether_the_bound_is_included_and_write_it_in_full(key, value, expected):
    with pytest.raises(ScenarioError, match=re.escape(f"{key}: {expected}")):
        load_scenario("england_system", {key: value})


def test_the_schema_names_the_governance_rules_the_model_implements():
    """The schema declares the modes so as not to import the model; they must not drift apart."""
    from relsim.model.governance import GOVERNANCE

    assert len(set(GOVERNANCE_MODES)) == len(GOVERNANCE_MODES)
    assert set(GOVERNANCE_MODES) == set(GOVERNANCE)


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, at any depth (lazy imports in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(LAYER.glob("*.py")), ids=lambda p: p.name)
def test_the_scenario_layer_imports_only_itself_and_the_bottom_utilities(path):
    allowed = ("relsim.scenario", "relsim.errors", "relsim.atomic")
    for module in _imports(path):
        if module == "relsim" or module.startswith("relsim."):
            assert module.startswith(allowed), f"{path.name} imports {module}"
        assert not module.startswith("mesa"), f"{path.name} imports {module}"


def test_the_scenario_layer_loads_and_validates_without_the_model():
    """Load, override, refuse and document scenarios in a fresh process; nothing else loads.

    ``relsim/__init__.py`` is replaced by an empty package, so that what the layer itself
    imports is measured, not what the top-level package chooses to import.
    """
    code = f"""
import json, sys, types
package = types.ModuleType("relsim")
package.__path__ = [{str(LAYER.parent)!r}]
sys.modules["relsim"] = package
from relsim.errors import ScenarioError
from relsim.scenario import load_scenario, schema_rows, with_overrides
with_overrides(load_scenario("england_system"), {{"governance.mode": "hierarchical"}})
try:
    load_scenario(None, {{"governance.mode": "anarchy"}})
except ScenarioError:
    pass
schema_rows()
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("mesa", "relsim.")))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert all(m.startswith(("relsim.scenario", "relsim.errors")) for m in loaded), loaded
