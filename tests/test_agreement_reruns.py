"""Snakemake and DVC agree after reruns: a behaviour change rerun by either tool gives the same
results, and run-cache restores and checkouts of earlier states leave both tools clean.

Each test works on its own copy of the test run's tiny build, as in tests/test_agreement.py
(whose module docstring says why Snakemake checks there run with
``--max-checksum-file-size 0``); these are a module of their own so that the two can run in
parallel.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest
from repo_utils import TINY, copy_repo, dvc_clean, nothing_to_do, result_files, run, set_value

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tiny_build, tmp_path) -> Path:
    return copy_repo(tiny_build, tmp_path / "repo")


def same_results(a: Path, b: Path) -> list[str]:
    """Result files that differ between two repos (PNG bytes depend on the browser's encoder
    and are left out)."""
    here, there = result_files(a), result_files(b)
    assert here.keys() == there.keys()
    return [k for k in here if not k.endswith(".png") and not filecmp.cmp(here[k], there[k], False)]


def test_a_behaviour_change_reruns_under_either_tool_to_the_same_results(repo: Path, tmp_path):
    # The clean-neuron comparison: with it, no neuron is clean any more.
    path = repo / "workflow/grokscope/neurons.py"
    text = path.read_text()
    assert "(best_fraction >= threshold)" in text
    path.write_text(text.replace("(best_fraction >= threshold)", "(best_fraction > 2.0)"))
    other = copy_repo(repo, tmp_path / "other")

    run("snakemake --cores 2", repo)
    run("dvc repro", other)
    for built in (repo, other):
        metrics = json.loads((built / f"results/{TINY}/analysis/neurons.json").read_text())
        assert metrics["clean_fraction"] == 0.0  # the new code's result, not a stale one
        assert nothing_to_do(built) and dvc_clean(built)
    assert same_results(repo, other) == []


def test_run_cache_restores_leave_snakemake_nothing_to_do(repo: Path):
    analysis = repo / "params/analysis.yaml"
    restored = ""
    for value in ("0.8", "0.85", "0.8"):  # the last restores 0.8's run from the run-cache
        set_value(analysis, "clean_threshold", value)
        restored += run("dvc repro", repo).stdout
    assert "is cached - skipping run, checking out outputs" in restored
    assert nothing_to_do(repo) and dvc_clean(repo)
    again = run("snakemake --cores 2 --max-checksum-file-size 0", repo)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_dvc_checkout_of_an_earlier_state_leaves_both_tools_clean(repo: Path):
    run("git add -A && git commit -qm built", repo)
    set_value(repo / "params/figures.yaml", "width", "640")
    run("dvc repro && git add -A && git commit -qm narrower", repo)
    run("git checkout -q HEAD~1 && dvc checkout", repo)
    assert dvc_clean(repo) and nothing_to_do(repo)
    run("git checkout -q - && dvc checkout", repo)
    assert dvc_clean(repo) and nothing_to_do(repo)
