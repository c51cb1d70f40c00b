"""Short plain-text summaries printed by the command line."""

from __future__ import annotations

from relsim.runs.simulation import RunResult


def _first_month(values: object, condition: object) -> int | None:
    hits = values[condition]  # type: ignore[index]
    return int(hits.iloc[0]) if len(hits) else None


def run_summary(result: RunResult) -> str:
    """A few lines on what happened in a run: trust, compact, disclosure, adoption."""
    m = result.months
    n = len(result.scenario.trusts)
    width = max(26, *(len(p) + 1 for p in result.scenario.practice_names))
    first, last = m.iloc[0], m.iloc[-1]
    lines = [
        f"{result.scenario.name} · seed {result.seed} · {int(last['month'])} months · "
        f"{result.scenario.governance.mode}",
        f"  {'trust in the regulator':{width}} {first['mean_trust_in_regulator']:.2f} -> "
        f"{last['mean_trust_in_regulator']:.2f}   "
        f"(regulator in trusts {first['mean_regulator_trust']:.2f} -> "
        f"{last['mean_regulator_trust']:.2f}; among trusts {first['mean_peer_trust']:.2f} -> "
        f"{last['mean_peer_trust']:.2f})",
    ]
    compact = _first_month(m["month"], m["compact_state"].eq("in_force"))
    if compact is not None:
        lines.append(f"  {'compact':{width}} in force from month {compact}")
    elif (m["compact_state"] == "negotiating").any():
        lines.append(f"  {'compact':{width}} still being negotiated at the end")
    attendance = m["attendance_rate"].dropna()
    if len(attendance):
        lines.append(f"  {'board attendance':{width}} {attendance.mean():.0%} of seats filled")
    lines.append(
        f"  {'disclosed / surprises':{width}} {int(m['disclosures'].sum())} / "
        f"{int(m['surprises'].sum())}   sanctions {int(m['sanctions'].sum())}   "
        f"mean gaming gap {m['gaming_gap'].mean():.3f}"
    )
    lines.append(
        f"  {'relational orientation':{width}} {first['relational_orientation']:.2f} -> "
        f"{last['relational_orientation']:.2f}   capability {first['mean_capability']:.2f} -> "
        f"{last['mean_capability']:.2f}"
    )
    for practice in result.scenario.practice_names:
        adopters = m[f"adopters_{practice}"]
        full = _first_month(m["month"], adopters.eq(n))
        reach = f"all {n} by month {full}" if full is not None else f"at most {adopters.max()}"
        label = practice.replace("_", " ")
        lines.append(f"  {label:{width}} {int(adopters.iloc[-1])}/{n} at the end ({reach})")
    return "\n".join(lines)
