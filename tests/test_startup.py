"""Start-up: ``import relsim`` and the quick commands import only what they use.

What these commands cost in time is measured by ``benchmarks/bench_startup.py``; here only what
they import is checked, in a fresh interpreter, which does not depend on the machine's load.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import relsim

#: Libraries that take most of a second to import, which a quick command must not need.
HEAVY = ("mesa", "pandas", "matplotlib", "scipy")


def heavy_modules_after(code: str, *args: str) -> list[str]:
    """The HEAVY modules imported once ``code`` has run (with ``args`` as ``sys.argv[1:]``)."""
    heavy = f"sorted(set(sys.modules) & {set(HEAVY)!r})"
    probe = f"import json, sys\n{code}\nprint(json.dumps({heavy}))"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


RUN_CLI = (
    "from relsim.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exc:  # --help\n"
    "    code = exc.code\n"
    "assert not code, code\n"
)


def test_importing_relsim_imports_none_of_its_api():
    assert heavy_modules_after("import relsim") == []


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("scenarios",),
        ("experiments",),
        ("show", "nhs_vmi_partnership"),
    ],
    ids=" ".join,
)
def test_quick_commands_do_not_import_the_model_or_plotting(args):
    assert heavy_modules_after(RUN_CLI, *args) == []


def test_every_public_name_resolves_and_is_listed():
    assert set(relsim.__all__) <= set(dir(relsim))
    for name in relsim.__all__:
        assert getattr(relsim, name) is not None, name
    assert relsim.simulate.__module__ == "relsim.runs.simulation"
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        relsim.nonesuch  # noqa: B018


def test_version_is_printed_on_request(capsys):
    from relsim.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith(f"relsim {relsim.__version__} (")
