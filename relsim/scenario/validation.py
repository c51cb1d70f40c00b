"""The validation engine: raw tables in, frozen schema objects out, or one error naming the field.

A raw table (parsed TOML: dicts, lists, numbers, text) is checked against a schema class declared
with :func:`~relsim.scenario.schema.param` and built in one pass: unknown keys, missing required
keys, types, ranges and choices are all found from the declarations, and the first problem is
reported as one line naming the file, the dotted path of the field and what was expected::

    scenarios/x.toml: trusts[2].readiness: must be between 0 and 1 (got 1.7)

:func:`build_table` and :func:`check_keys` work for any such class, so other input files (an
experiment's) are checked by the same rules and say the same things; :func:`build_scenario` adds
what only a whole scenario can be checked for: its generated population and the rules across
fields.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, get_args, get_origin

from relsim.errors import ScenarioError
from relsim.scenario import population
from relsim.scenario.overrides import apply_overrides
from relsim.scenario.schema import (
    DEFAULT_TRUSTS,
    MAX_GENERATED_TRUSTS,
    Limits,
    Scenario,
    field_types,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: The most trusts a file may list ([[trusts]]): as many as a population may generate.
MAX_LISTED_TRUSTS = MAX_GENERATED_TRUSTS

#: The longest name of a trust, region or practice: names label tables, figures and the
#: dashboard, and a name of a million characters would only exhaust memory drawing them.
MAX_NAME = 100
#: The longest scenario name (shown in titles).
MAX_TITLE = 200

#: Memory one model needs per pair of actors that meet at one board, in bytes: about 200
#: measured (``networked`` mode, 500 and 1,000 trusts, 3 to 24 months), with a margin.
BYTES_PER_BOARD_PAIR = 250
#: The most memory a scenario may be estimated to need (see :func:`_check_memory`).
MAX_MODEL_BYTES = 4e9


class Reporter:
    """Makes the error for a bad value, blaming the file or the override that caused it.

    Args:
        file: The file (or other source) the raw table came from, as messages name it.
        touched: Dotted keys that overrides set; an error at or below one of them (or related to
            one, see :meth:`error`) is blamed on the overrides, not on the file.
        override_source: How to name the overrides in messages (``--set``).
    """

    def __init__(
        self, file: str, touched: Collection[str] = (), override_source: str = "overrides"
    ) -> None:
        self.file = file
        self.touched = touched
        self.override_source = override_source

    def error(self, path: str, message: str, related: tuple[str, ...] = ()) -> ScenarioError:
        """The error at ``path``, blamed on the overrides if they set it or any ``related`` key.

        ``related`` names the other fields of a constraint across fields: when an override
        changed one of them (``--set population.trusts=20`` against a file's 42 regions), the
        override made the combination wrong, so it is named, not the file.
        """
        for key in self.touched:
            for name in (path, *related):
                if name == key or name.startswith((key + ".", key + "[")):
                    return ScenarioError(self.override_source, path, message)
        return ScenarioError(self.file, path, message)


def _describe(value: Any) -> str:
    """Render a found value for an error message, as it would be written in TOML."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def check_keys(raw: Mapping[str, Any], known: Iterable[str], path: str, rep: Reporter) -> None:
    """Refuse the first key of a raw table that is not one of ``known``.

    Args:
        raw: The table as read.
        known: The keys it may have, in the order the message lists them.
        path: Dotted path of the table (empty for the top level of a file).
        rep: Names the file in the error.

    Raises:
        ScenarioError: ``<path>.<key>: unknown key (expected one of: ...)``.
    """
    names = tuple(known)
    for key in raw:
        if key not in names:
            where = f"{path}.{key}" if path else key
            raise rep.error(where, f"unknown key (expected one of: {', '.join(names)})")


def build_table[T: DataclassInstance](cls: type[T], raw: Any, path: str, rep: Reporter) -> T:
    """Build the schema class ``cls`` from a raw table, checking every key and value.

    Fields are checked in the order they are declared, against the type, range and choices
    declared with :func:`~relsim.scenario.schema.param`; fields that are tables, lists of
    tables or fixed-length lists are checked recursively. A field typed ``dict[str, Any]`` takes
    any table, whose keys the caller checks.

    Args:
        cls: A frozen dataclass whose fields are declared with ``param`` or ``required``.
        raw: The table as read.
        path: Dotted path of the table, prefixed to each field's name in messages.
        rep: Names the file (or the override) in the error.

    Raises:
        ScenarioError: one line naming the file, the dotted field and what was expected.
    """
    if not isinstance(raw, dict):
        raise rep.error(path, f"expected a table (got {_describe(raw)})")
    known = {f.name: f for f in dataclasses.fields(cls)}
    check_keys(raw, known, path, rep)
    types = field_types(cls)
    kwargs = {}
    for name, f in known.items():
        where = f"{path}.{name}" if path else name
        if name in raw:
            kwargs[name] = _convert(types[name], raw[name], f.metadata, where, rep)
        elif f.default is dataclasses.MISSING:
            expected = f.metadata.get("expected")
            hint = f" (expected {expected})" if expected else ""
            raise rep.error(where, f"is required{hint}")
    return cls(**kwargs)


def _check_number(value: float, meta: Mapping[str, Any], path: str, rep: Reporter) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise rep.error(path, f"must be a finite number (got {value})")
    limits = Limits.of(meta)
    if not limits.admits(value):
        raise rep.error(path, f"must be {limits.words()} (got {value})")


def _convert(tp: Any, value: Any, meta: Mapping[str, Any], path: str, rep: Reporter) -> Any:
    """Check ``value`` against the type ``tp`` and return it in its schema form."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build_table(tp, value, path, rep)  # type: ignore[arg-type]
    if origin is dict:
        if not isinstance(value, dict):
            raise rep.error(path, f"expected a table (got {_describe(value)})")
        return value
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list | tuple):
            raise rep.error(path, f"expected a list (got {_describe(value)})")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(
                _convert(args[0], item, meta, f"{path}[{i}]", rep) for i, item in enumerate(value)
            )
        if len(value) != len(args):
            raise rep.error(path, f"expected a list of {len(args)} values (got {len(value)})")
        items = tuple(
            _convert(a, item, meta, f"{path}[{i}]", rep)
            for i, (a, item) in enumerate(zip(args, value, strict=True))
        )
        if list(items) != sorted(items):
            raise rep.error(path, f"expected [low, high] with low <= high (got {list(items)})")
        return items
    if tp is bool:
        if isinstance(value, str):
            # A quoted "false" is text, and text is not a boolean: say so, and how to write one.
            raise rep.error(
                path,
                f"expected true or false, not the text {value!r}: write it without quotes "
                "(true/false in TOML and --set, True/False in Python)",
            )
        if not isinstance(value, bool):
            raise rep.error(path, f"expected true or false (got {_describe(value)})")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                value = int(value)
            else:
                raise rep.error(path, f"expected a whole number (got {_describe(value)})")
        _check_number(value, meta, path, rep)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise rep.error(path, f"expected a number (got {_describe(value)})")
        value = float(value)
        _check_number(value, meta, path, rep)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise rep.error(path, f"expected text (got {_describe(value)})")
        choices = meta.get("choices")
        if choices and value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise rep.error(path, f"must be one of {listed} (got {value!r})")
        return value
    raise TypeError(f"unsupported schema type at {path}: {tp}")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Whole scenarios
# ---------------------------------------------------------------------------------------------


def _check_regions(s: Scenario, rep: Reporter) -> None:
    """Listed trusts have a region all or none, and every region has peers to meet.

    A trust alone in its region has no peers: its board would be a meeting with the regulator
    alone, and its trust in peers undefined.
    """
    named = [i for i, t in enumerate(s.trusts) if t.region]
    if named and len(named) < len(s.trusts):
        i = next(i for i, t in enumerate(s.trusts) if not t.region)
        raise rep.error(
            f"trusts[{i}].region",
            "every trust needs a region when any has one (empty for all: one network)",
        )
    sizes: dict[str, list[int]] = {}
    for i, t in enumerate(s.trusts):
        sizes.setdefault(t.region, []).append(i)
    if len(s.trusts) > 1:
        for region, members in sizes.items():
            if len(members) == 1:
                raise rep.error(
                    f"trusts[{members[0]}].region",
                    f"region {region!r} has one trust: a region needs at least 2 to have peers",
                )


def _check_sizes(s: Scenario, rep: Reporter) -> None:
    """Refuse what would exhaust memory rather than run: too many trusts, names too long."""
    if len(s.trusts) > MAX_LISTED_TRUSTS:
        raise rep.error(
            "trusts", f"at most {MAX_LISTED_TRUSTS} trusts may be listed (got {len(s.trusts)})"
        )
    if len(s.scenario.name) > MAX_TITLE:
        raise rep.error(
            "scenario.name",
            f"must be at most {MAX_TITLE} characters (got {len(s.scenario.name)})",
        )
    for i, t in enumerate(s.trusts):
        for key, value in (("name", t.name), ("region", t.region)):
            if len(value) > MAX_NAME:
                raise rep.error(
                    f"trusts[{i}].{key}",
                    f"must be at most {MAX_NAME} characters (got {len(value)})",
                )
    for i, p in enumerate(s.practices):
        if len(p.name) > MAX_NAME:
            raise rep.error(
                f"practices[{i}].name", f"must be at most {MAX_NAME} characters (got {len(p.name)})"
            )


def board_size(s: Scenario) -> int:
    """Trusts at the largest board a scenario's rules convene (all of them for ``networked``).

    ``networked`` seats every trust at one board; otherwise the largest meeting is a region
    (every trust, when none has a region).
    """
    modes = {s.governance.mode, *(change.mode for change in s.governance.changes)}
    if "networked" in modes:
        return len(s.trusts)
    sizes: dict[str, int] = {}
    for t in s.trusts:
        sizes[t.region] = sizes.get(t.region, 0) + 1
    return max(sizes.values(), default=0)


def _check_memory(s: Scenario, rep: Reporter) -> None:
    """Refuse a scenario whose largest board would need more than :data:`MAX_MODEL_BYTES`.

    The state of every pair of actors at one board is held densely, so memory grows with the
    square of the largest board (:func:`board_size`): 10,000 trusts at one board would need
    about 25 GB. Found here, it is one line; found by the model, minutes and a crash later.
    """
    size = board_size(s)
    estimate = BYTES_PER_BOARD_PAIR * (size + 2) ** 2
    if estimate > MAX_MODEL_BYTES:
        field = "population.trusts" if s.population.trusts else "trusts"
        raise rep.error(
            field,
            f"{size} trusts meeting at one board would need about {estimate / 1e9:.0f} GB of "
            f"memory (at most {MAX_MODEL_BYTES / 1e9:.0f} GB; use fewer trusts, regions, or a "
            "governance.mode with regional boards)",
            ("governance.mode", "population.regions", "population.region_size"),
        )


def _cross_check(s: Scenario, rep: Reporter) -> None:
    """Checks that involve more than one field."""
    _check_sizes(s, rep)
    last = 0
    for i, change in enumerate(s.governance.changes):
        if change.month <= last:
            raise rep.error(
                f"governance.changes[{i}].month", "changes must be in increasing month order"
            )
        last = change.month
    if not s.trusts:
        raise rep.error(
            "trusts", "at least one trust is required (list [[trusts]] or set population.trusts)"
        )
    seen: dict[str, int] = {}
    for i, t in enumerate(s.trusts):
        if not t.name.strip():
            raise rep.error(f"trusts[{i}].name", "must not be empty")
        if t.name in seen:
            first = f"trusts[{seen[t.name]}].name"
            raise rep.error(
                f"trusts[{i}].name", f"duplicate trust name {t.name!r} (also {first})", (first,)
            )
        seen[t.name] = i
        if -1 < t.initial_coverage < 0:
            raise rep.error(
                f"trusts[{i}].initial_coverage",
                f"must be -1 (drawn as training.initial_coverage) or between 0 and 1 "
                f"(got {t.initial_coverage:g})",
            )
    _check_regions(s, rep)
    practice_names: set[str] = set()
    for i, p in enumerate(s.practices):
        if not _NAME_RE.match(p.name):
            raise rep.error(
                f"practices[{i}].name",
                f"must be letters, digits and underscores, not starting with a digit "
                f"(got {p.name!r})",
            )
        if p.name in practice_names:
            raise rep.error(f"practices[{i}].name", f"duplicate practice name {p.name!r}")
        practice_names.add(p.name)
        if p.origin not in seen:
            names = s.trust_names
            if len(names) > 10:
                listed = f"{len(names)} trusts: {names[0]!r} ... {names[-1]!r}"
            else:
                listed = ", ".join(repr(n) for n in names)
            raise rep.error(
                f"practices[{i}].origin", f"must be one of the trusts ({listed}) (got {p.origin!r})"
            )
    if s.partner.end_month < s.partner.start_month:
        raise rep.error(
            "partner.end_month",
            f"must not be before partner.start_month ({s.partner.start_month}) "
            f"(got {s.partner.end_month})",
        )
    board = s.governance.board
    if board.positivity_floor > board.positivity_ceiling:
        raise rep.error(
            "governance.board.positivity_floor",
            f"must not exceed governance.board.positivity_ceiling "
            f"({board.positivity_ceiling:g}) (got {board.positivity_floor:g})",
        )
    if s.posture.capitulation_trust > s.posture.commitment_trust:
        raise rep.error(
            "posture.capitulation_trust",
            f"must not exceed posture.commitment_trust ({s.posture.commitment_trust:g}) "
            f"(got {s.posture.capitulation_trust:g})",
        )
    _check_memory(s, rep)


def _populate(s: Scenario, rep: Reporter) -> Scenario:
    """Check the population table and, if it asks for trusts, generate them."""
    for name in ("readiness", "initial_coverage", "quality"):
        found = population.distribution_problem(getattr(s.population, name))
        if found:
            raise rep.error(f"population.{name}.{found[0]}", found[1])
    found = population.problem(s.population)
    if found:
        sizes = ("population.trusts", "population.regions", "population.region_size")
        raise rep.error(*found, related=sizes)
    if not s.population.trusts:
        return s
    if s.trusts and s.trusts != DEFAULT_TRUSTS:
        raise rep.error(
            "trusts",
            f"lists trusts, but population.trusts = {s.population.trusts} generates them "
            "(use one or the other)",
        )
    return dataclasses.replace(s, trusts=population.generate(s.population))


def build_scenario(raw: Mapping[str, Any], rep: Reporter) -> Scenario:
    """Build and check a whole scenario from a complete raw table (every key present or defaulted).

    Beyond :func:`build_table`: generates the trusts of a ``[population]`` table, then checks
    the rules across fields (unique names, practices' origins, regions with peers, ordered
    thresholds and months).

    Raises:
        ScenarioError: one line naming the file or override, the dotted field and what was
            expected.
    """
    scenario = _populate(build_table(Scenario, raw, "", rep), rep)
    _cross_check(scenario, rep)
    return scenario


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a file's tables over the defaults; lists (trusts, shocks, ...) replace whole."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def scenario_from_dict(
    raw: Mapping[str, Any],
    *,
    source: str = "<dict>",
    overrides: Mapping[str, Any] | None = None,
    override_source: str = "overrides",
) -> Scenario:
    """Build a validated scenario from a raw mapping (the parsed contents of a file).

    The mapping states only what differs from the defaults; dotted-key ``overrides`` are applied
    on top, and errors in what they set are blamed on ``override_source``.
    """
    merged = _merge(Scenario().to_dict(), raw)
    touched = apply_overrides(merged, overrides or {}, override_source)
    return build_scenario(merged, Reporter(source, touched, override_source))


def with_overrides(
    scenario: Scenario, overrides: Mapping[str, Any], source: str = "overrides"
) -> Scenario:
    """A validated copy of ``scenario`` with dotted-key overrides applied.

    A function of this module rather than a method of :class:`Scenario`, so that the schema
    does not import the validation that builds it.

    Args:
        scenario: The scenario to start from.
        overrides: Mapping such as ``{"governance.mode": "hierarchical",
            "trusts[0].readiness": 0.9}``.
        source: Where the overrides came from, for error messages.
    """
    if not overrides:
        return scenario
    raw = scenario.to_dict()
    touched = apply_overrides(raw, overrides, source)
    return build_scenario(raw, Reporter(source, touched, source))
