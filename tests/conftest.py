"""Fixtures shared by the end-to-end test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from repo_utils import TINY, make_repo, run, shared_build


@pytest.fixture(scope="session")
def run_temp(tmp_path_factory, worker_id: str) -> Path:
    """The test run's common temporary directory: under pytest-xdist, the parent of the
    workers' own (``pytest-N/``, above ``popen-gwK/``), so builds there are shared."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def build_tiny(repo: Path) -> None:
    make_repo(repo, [TINY])
    first = run("snakemake --cores 2", repo)
    assert "Finished jobid" in first.stderr + first.stdout


@pytest.fixture(scope="session")
def tiny_build(run_temp: Path) -> Path:
    """A git repo with the tiny suite, built by `snakemake --cores 2` once per test run (the
    xdist workers share it). Do not change it: tests that change things work on a
    `copy_repo` of it."""
    return shared_build(run_temp, "tiny-build", build_tiny)


# Modules in the order the workers start them (`--dist loadfile --no-loadscope-reorder`: each
# module runs whole in one worker, so its module fixtures build once): the longest first
# (their tests' summed times in a full run, `--durations`), so that no worker is left alone
# with a long one at the end. The CPU-heavy code-edit reruns of test_agreement start early,
# beside modules that mostly wait (SLURM's polling, DVC's queue); the minute-long in-process
# modules (train, params fuzzing) come before the many short ones that fill the end. Only the
# order: every test runs wherever it lands. Modules not listed follow, in their usual order.
LONGEST_FIRST = [
    "test_experiments",
    "test_training_precision",
    "test_slurm",
    "test_agreement",
    "test_agreement_reruns",
    "test_reliability",
    "test_pipeline",
    "test_faults",
    "test_sweep",
    "test_figures",
    "test_train",
    "test_import",
    "test_params_fuzz",
    "test_report_browser",
    "test_s3",
    "test_structure",
    "test_explore",
]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order = {name: rank for rank, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: order.get(item.module.__name__, len(order)))  # stable


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: half as many workers again as cores, since the slow end-to-end tests spend
    much of their time waiting on subprocesses (SLURM's status checks, DVC running one stage
    at a time, browsers starting)."""
    return max(2, (3 * (os.cpu_count() or 1)) // 2)
