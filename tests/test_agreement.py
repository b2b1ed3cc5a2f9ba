"""Snakemake and DVC agree: one definition of "stale" in both tools, no DVC operation that
makes finished work look stale, and a closing record that never stamps stale work as current.

Every Snakemake check here runs with ``--max-checksum-file-size 0``: the default suite's
files are larger than Snakemake's 1 MB checksum limit, so only modification times tell it
what is current there; the tiny experiment's small files would otherwise hide a wrong mtime
behind a matching checksum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from repo_utils import TINY, copy_repo, dvc_clean, nothing_to_do, run

from grokscope import dvcfiles
from grokscope.closure import step_closure
from grokscope.sync import owners

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tiny_build, tmp_path) -> Path:
    return copy_repo(tiny_build, tmp_path / "repo")


def dvc_stale(repo: Path) -> set[str]:
    status = json.loads(run("dvc status --json", repo).stdout or "{}")
    return {dvcfiles.stage_name(key) for key in status}


def snakemake_stale(repo: Path) -> set[str]:
    """Jobs Snakemake finds stale on their own account (params, code or inputs changed), not
    merely downstream of one that will run: from `snakemake --summary`, as stage names."""
    summary = run("snakemake --summary --max-checksum-file-size 0", repo).stdout
    owner = owners(dvcfiles.stages(repo))
    stale = set()
    for line in summary.splitlines()[1:]:
        path, _date, _rule, _log, status = line.split("\t")[:5]
        if status != "ok" and path in owner:
            stale.add(owner[path])
    return stale


def running(repo: Path, module: str) -> set[str]:
    """The stages whose step's code closure holds ``module`` (relative to the package)."""
    out = set()
    for name in dvcfiles.stages(repo):
        step = name.split("-")[0]
        step = "train_batched" if step.startswith("train_batched_") else step
        if module in {p.as_posix() for p in step_closure(step)}:
            out.add(name)
    return out


def mtimes(repo: Path) -> dict[str, int]:
    """Every file under results/ (but logs and benchmarks) and its mtime, Snakemake's
    directory markers included."""
    base = repo / "results"
    return {
        str(p.relative_to(base)): p.stat().st_mtime_ns
        for p in base.rglob("*")
        if p.is_file() and p.relative_to(base).parts[0] not in ("logs", "benchmarks")
    }


def python(repo: Path, code: str) -> None:
    (repo / ".snippet.py").write_text(code)
    run("python .snippet.py && rm .snippet.py", repo)


def test_a_build_is_clean_in_both_tools_and_recording_it_changes_no_mtime(repo: Path):
    assert nothing_to_do(repo) and dvc_clean(repo)
    before = mtimes(repo)
    # The closing record of a plain snakemake run that executed every job.
    every = sorted(owners(dvcfiles.stages(repo)))
    python(repo, f"from grokscope.sync import record\nrecord({every!r}, {every!r})\n")
    assert mtimes(repo) == before
    again = run("snakemake --cores 2 --max-checksum-file-size 0", repo)
    assert "Nothing to be done" in again.stdout + again.stderr
    assert nothing_to_do(repo) and dvc_clean(repo)


@pytest.mark.parametrize(
    "module",
    ["neurons.py", "plots/training.py", "train.py"],
    ids=["analysis", "figure", "trainer"],
)
def test_a_code_edit_is_seen_alike_by_both_tools_and_only_where_the_code_runs(
    repo: Path, module: str
):
    path = repo / "workflow/grokscope" / module
    path.write_text(path.read_text() + "\n# an edit that changes no result\n")
    expected = running(repo, module)
    assert expected and dvc_stale(repo) == expected
    assert snakemake_stale(repo) == expected
    if module == "train.py":
        assert not any(name.startswith("dataset") for name in expected)
    if module.startswith("plots/"):
        assert all(name.startswith("figure_") for name in expected)

    run("snakemake --cores 2", repo)
    assert nothing_to_do(repo) and dvc_clean(repo)


def test_the_closing_record_never_stamps_a_stale_stage(repo: Path):
    path = repo / "workflow/grokscope/neurons.py"
    path.write_text(path.read_text() + "\n# edit\n")
    stale = dvc_stale(repo)
    assert f"neurons-{TINY}" in stale and len(stale) > 1
    # A run for one target records the jobs it ran (that target and the stale steps before
    # it) and nothing else: the rest stays stale in both tools.
    done = run(f"snakemake --cores 1 results/{TINY}/analysis/neurons.json", repo)
    ran = {
        f"{r}-{TINY}"
        for r in re.findall(r"^(?:local)?rule (\w+):", done.stdout + done.stderr, re.M)
    }
    assert f"neurons-{TINY}" in ran and ran <= stale
    left = stale - ran
    assert left and dvc_stale(repo) == left
    assert snakemake_stale(repo) == left
