"""DVC's metrics and experiments on the generated pipeline, with real DVC and Snakemake on the
tiny experiment: the headline tables are narrow and hold the headline numbers; queued
experiments run in DVC's temporary workspaces, compare in `dvc exp show`, come back with
`dvc exp apply` (both tools then clean) and travel through a Git and a DVC remote.

The commands are the README's ("Experiments with DVC").
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from repo_utils import TINY, copy_repo, dvc_clean, nothing_to_do, run

from grokscope.headline import EXPERIMENT_KEYS

pytestmark = pytest.mark.slow

HEADLINE = f"results/{TINY}/headline.json"
PARAMS = f"params/experiments/{TINY}.yaml"
# The README's comparison: only what differs between the rows, without the dependency columns
# (each a file path without ':', holding a hash); metrics and params names have no '/' unless
# DVC prefixes them with their file, followed by ':'.
EXP_SHOW = "dvc exp show --no-pager --only-changed --drop '[^:]*/[^:]*$'"
# ... and to see some headline numbers whether they differ or not, --keep them (all here).
KEEP = "--keep '(.*:)?({})$'".format("|".join(key for key, _, _ in EXPERIMENT_KEYS))
LRS = ("0.005", "0.02")


def markdown_table(text: str) -> list[dict[str, str]]:
    """The rows of a table printed with --md, as {column: cell}."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header, *rows = ([cell.strip() for cell in line.strip("|").split("|")] for line in lines)
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]  # rows[0]: |---|


def csv_table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def same(cell: str, value: object) -> bool:
    """A table cell shows ``value``: numbers as DVC prints them, to 5 significant digits
    (`dvc exp show`) or rounded to 5 decimal places (`dvc metrics show`: a loss of 1e-6
    prints as 0.0)."""
    if isinstance(value, str):
        return cell == value
    return float(cell) == pytest.approx(value, rel=1e-4, abs=1e-5)


def test_metrics_show_and_exp_show_are_narrow_and_hold_the_headline(tiny_build, tmp_path):
    repo = copy_repo(tiny_build, tmp_path / "repo")
    run("git add dvc.lock pipelines && git commit -qm built", repo)  # results recorded in a commit
    headline = json.loads((repo / HEADLINE).read_text())
    known = {key: value for key, value in headline.items() if value is not None}
    assert 12 <= len(known) <= 15

    # dvc metrics show: one row per headline file, one column per headline number.
    metrics = json.loads(run("dvc metrics show --json", repo).stdout)
    assert metrics == {"": {"data": {HEADLINE: {"data": known}}}}  # DVC skips a null
    (row,) = markdown_table(run("dvc metrics show --md", repo).stdout)
    assert row["Path"] == HEADLINE and len(row) <= 20
    assert set(row) == {"Path", *known}
    assert all(same(row[key], value) for key, value in known.items())

    # dvc exp show with the README's flags: the workspace and its commit, headline numbers.
    rows = markdown_table(run(f"{EXP_SHOW} --md {KEEP}", repo).stdout)
    assert len(rows) == 2 and rows[0]["Experiment"] == "workspace"  # and its commit
    assert len(rows[0]) <= 20 and set(rows[0]) == {"Experiment", "Created", *known}
    assert all(same(row[key], value) for row in rows for key, value in known.items())
    # Without --keep nothing differs between the two rows, and no column is left but them.
    assert set(markdown_table(run(f"{EXP_SHOW} --md", repo).stdout)[0]) <= {
        "Experiment",
        "Created",
    }

    # dvc plots: the curves against epoch, several columns per plot, not the last column.
    plots = json.loads(run("dvc plots show --json", repo).stdout)["data"]
    assert set(plots) == {f"{TINY} loss", f"{TINY} accuracy", f"{TINY} progress"}
    values = plots[f"{TINY} progress"][0]["content"]["data"]["values"]
    assert {v["field"] for v in values} == {"test_loss", "restricted_loss", "excluded_loss"}


def queue_status(repo: Path, until: Callable[[str], object], limit: float, every: float) -> str:
    """`dvc queue status` every ``every`` seconds until ``until(status)``; that status.

    Each call costs a second or so of CPU, so poll no faster than needed. ``limit`` seconds is
    a hang guard, not a speed goal: past it the test fails with the last status."""
    deadline = time.monotonic() + limit
    while not until(status := run("dvc queue status", repo).stdout):
        assert time.monotonic() < deadline, status
        time.sleep(every)
    return status


@pytest.fixture(scope="module")
def queued(tiny_build, tmp_path_factory) -> Path:
    """A copy of the tiny build with two queued experiments (two learning rates), run by two
    queue workers in DVC's temporary workspaces."""
    repo = copy_repo(tiny_build, tmp_path_factory.mktemp("experiments") / "repo")
    # The baseline the experiments change: the results recorded in a commit.
    run("git add dvc.lock pipelines && git commit -qm built", repo)
    run(f"dvc exp run --queue -S '{PARAMS}:train.lr={','.join(LRS)}'", repo)
    # The workers DVC starts are daemons that keep this command's stdout and stderr: to a
    # file, so that the command returns when it has started them, not when the last worker
    # exits (a worker other than DVC's first may idle on after the queue is empty).
    run(f"dvc queue start -j 2 > {repo.parent / 'queue-start.log'} 2>&1", repo)
    try:  # the two experiments take minutes
        queue_status(repo, lambda s: not re.search(r"\b(Queued|Running)\b", s), 1800, every=20)
    finally:  # no worker outlives the fixture
        run("dvc queue stop", repo)
        status = queue_status(repo, lambda s: re.search(r"\b0 active, 0 idle\b", s), 120, every=5)
    if status.count("Success") != 2:
        names = re.findall(r"^\w+\s+(\S+)\s+.*\b(?:Failed|Success)\b", status, flags=re.M)
        logs = "".join(run(f"dvc queue logs {n}", repo, check=False).stdout for n in names)
        raise AssertionError(f"{status}\n{logs[-5000:]}")
    return repo


def experiments(repo: Path) -> dict[str, dict[str, str]]:
    """Each experiment's row of the README's comparison (as CSV), by its learning rate."""
    rows = csv_table(run(f"{EXP_SHOW} --csv", repo).stdout)
    return {r["train.lr"]: r for r in rows if r["typ"].startswith("branch_")}


def test_exp_show_lists_both_experiments_with_their_metrics(queued: Path):
    table = markdown_table(run(f"{EXP_SHOW} --md", queued).stdout)
    assert len(table) == 4 and all(len(row) <= 20 for row in table)  # + workspace and master
    rows = experiments(queued)
    assert set(rows) == set(LRS)
    for row in rows.values():
        assert float(row["train_loss"]) < 0.1 and row["key_irreps"].startswith("freq ")
        assert int(row["key_irrep_count"]) == row["key_irreps"].count("freq ")
    assert rows[LRS[0]]["test_loss"] != rows[LRS[1]]["test_loss"]
    # Only the learning rate differs among the params; no dependency column is left.
    params = [c for c in table[0] if "." in c and c not in {k for k, _, _ in EXPERIMENT_KEYS}]
    assert params == ["train.lr"], list(table[0])


def test_exp_apply_restores_one_and_both_tools_are_clean(queued: Path):
    row = experiments(queued)[LRS[1]]
    run(f"dvc exp apply {row['Experiment']}", queued)
    assert f"lr: {float(LRS[1])}" in (queued / PARAMS).read_text()
    headline = json.loads((queued / HEADLINE).read_text())
    assert all(same(row[key], v) for key, v in headline.items() if v is not None and key in row)
    assert nothing_to_do(queued)
    assert dvc_clean(queued)

    # What changed against the commit: the learning rate, the headline, the curves.
    (param,) = markdown_table(run("dvc params diff --md", queued).stdout)
    assert (param["Param"], param["HEAD"], param["workspace"]) == ("train.lr", "0.01", LRS[1])
    metrics = markdown_table(run("dvc metrics diff --md", queued).stdout)
    assert {m["Path"] for m in metrics} == {HEADLINE} and len(metrics) <= 15
    plots = json.loads(run("dvc plots diff --json", queued).stdout)["data"]
    assert set(plots[f"{TINY} loss"][0]["revisions"]) == {"HEAD", "workspace"}


def test_exp_branch_push_and_pull_share_an_experiment(queued: Path):
    row = experiments(queued)[LRS[0]]
    run(f"dvc exp branch {row['Experiment']} slow-lr", queued)
    assert "slow-lr" in run("git branch", queued).stdout

    # A Git remote for the experiment's commit; its outputs go to the DVC remote (the
    # default `local`, a directory beside the repository).
    parent = queued.parent
    run(f"git init -q --bare {parent / 'origin.git'}", parent)
    run(f"git remote add origin {parent / 'origin.git'} && git push -q origin HEAD", queued)
    run(f"dvc exp push origin {row['Experiment']}", queued)
    clone = parent / "clone"
    run(f"git clone -q {parent / 'origin.git'} {clone}", parent)
    run(f"dvc exp pull origin {row['Experiment']}", clone)
    run(f"dvc exp apply {row['Experiment']}", clone)
    assert f"lr: {float(LRS[0])}" in (clone / PARAMS).read_text()
    headline = json.loads((clone / HEADLINE).read_text())
    assert all(same(row[key], v) for key, v in headline.items() if v is not None and key in row)
    assert nothing_to_do(clone)
    assert dvc_clean(clone)
