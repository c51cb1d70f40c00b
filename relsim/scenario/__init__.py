"""Scenario files in, a validated, frozen :class:`Scenario` out: the first layer of relsim.

Modules, from the bottom up:

- :mod:`~relsim.scenario.schema`: the frozen dataclasses of every parameter, declared with
  :func:`param`, and the limits (:data:`MAX_MONTHS`, :data:`GOVERNANCE_MODES`).
- :mod:`~relsim.scenario.population`: generating the trusts of a ``[population]`` table.
- :mod:`~relsim.scenario.overrides`: dotted keys (``trusts[2].readiness``) and applying them.
- :mod:`~relsim.scenario.validation`: the validation engine, for scenarios and other input
  files.
- :mod:`~relsim.scenario.files`: finding, reading and loading files, bundled or by path.
- :mod:`~relsim.scenario.reference`: the parameter table of ``docs/ODD.md``.

Nothing here imports the model: a scenario can be read, checked and shown without it.
"""

from relsim.scenario.files import (
    bundled_files,
    bundled_scenarios,
    load_scenario,
    read_source,
    resolve_scenario_path,
)
from relsim.scenario.overrides import parse_value, schema_type_at
from relsim.scenario.reference import schema_rows
from relsim.scenario.schema import GOVERNANCE_MODES, MAX_MONTHS, Scenario, param, required
from relsim.scenario.validation import (
    MAX_TITLE,
    Reporter,
    build_table,
    check_keys,
    scenario_from_dict,
    with_overrides,
)

__all__ = [
    "GOVERNANCE_MODES",
    "MAX_MONTHS",
    "MAX_TITLE",
    "Reporter",
    "Scenario",
    "build_table",
    "bundled_files",
    "bundled_scenarios",
    "check_keys",
    "load_scenario",
    "param",
    "parse_value",
    "read_source",
    "required",
    "resolve_scenario_path",
    "scenario_from_dict",
    "schema_rows",
    "schema_type_at",
    "with_overrides",
]
