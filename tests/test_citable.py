"""Citable: a licence, CITATION.cff, a version that names the commit, and the commit recorded."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relsim.runs import provenance
from relsim.runs.provenance import CITATION_TITLE, code_commit, code_digest, version_text

ROOT = Path(__file__).resolve().parents[1]


def test_the_licence_and_the_citation_file_exist_and_agree_with_the_package():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in cff
    assert f'title: "{CITATION_TITLE}"' in cff
    assert "license: MIT" in cff
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert f"version: {version}" in cff
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## How to cite" in readme
    assert CITATION_TITLE in readme


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="no git")
def test_the_version_names_the_commit_in_a_checkout():
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    commit = code_commit()
    assert commit is not None
    assert commit.removesuffix("+modified") == head
    done = subprocess.run(
        [sys.executable, "-m", "relsim.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("relsim ")
    assert f"commit {head[:12]}" in done.stdout


def test_outside_a_checkout_the_version_says_so_and_gives_the_code_hash(monkeypatch):
    monkeypatch.setattr(provenance, "code_commit", lambda: None)
    text = version_text()
    assert "not a git checkout" in text
    assert code_digest()[:12] in text


def test_run_and_sweep_manifests_record_the_commit(tmp_path):
    from relsim import simulate
    from relsim.runs.executors import Serial
    from relsim.runs.experiment import load_experiment
    from relsim.runs.progress import Silent
    from relsim.runs.runner import run_sweep

    simulate(seed=1, months=3).save(tmp_path / "run")
    run = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert run["code_commit"] == code_commit()
    experiment = load_experiment(
        {"experiment": {"scenario": "nhs_vmi_partnership"}, "base": {"scenario.months": 3}}
    )
    run_sweep(experiment, tmp_path / "sweep", executor=Serial(), progress=Silent())
    sweep = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert sweep["code_commit"] == code_commit()
    assert sweep["code_hash"] == code_digest()
