"""The whole pipeline through real Snakemake and real DVC, in temporary git repositories.

A copy of this working tree becomes a git repo whose suite is the tiny experiment; its DVC
remote is the project's default (a directory beside the repo, here inside tmp_path).
"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest
from repo_utils import (
    ROOT,
    TINY,
    copy_repo,
    dvc_clean,
    nothing_to_do,
    result_files,
    run,
    set_value,
)

from grokscope import dvcfiles

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tiny_build, tmp_path_factory) -> Path:
    """A copy of the session's tiny build (built by `snakemake --cores 2`), for this module."""
    return copy_repo(tiny_build, tmp_path_factory.mktemp("pipeline") / "a")


def test_build_then_nothing_to_do(built: Path):
    assert (built / f"results/{TINY}/figures/training/training_curves.png").exists()
    assert nothing_to_do(built)
    # The run recorded its outputs in dvc.lock, so DVC agrees without rerunning anything.
    assert dvc_clean(built)


def stages(repo: Path) -> set[str]:
    return set(dvcfiles.stages(repo))


def ran_stages(output: str) -> set[str]:
    return {dvcfiles.stage_name(s) for s in re.findall(r"Running stage '([^']+)'", output)}


def test_params_change_reruns_exactly_downstream(built: Path):
    # A training value: everything but data generation (and the shared plotly.js) reruns.
    set_value(built / f"params/experiments/{TINY}.yaml", "weight_decay", "0.9")
    out = run("dvc repro", built).stdout
    assert ran_stages(out) == stages(built) - {f"dataset-{TINY}", "assets"}, out
    assert dvc_clean(built)
    assert nothing_to_do(built)

    # An analysis setting: that analysis and what reads it.
    set_value(built / "params/analysis.yaml", "clean_threshold", "0.8")
    out = run("dvc repro", built).stdout
    ran = ran_stages(out)
    assert f"neurons-{TINY}" in ran and f"progress-{TINY}" in ran, out
    assert not ran & {f"dataset-{TINY}", f"train-{TINY}", f"cache_activations-{TINY}"}, out
    assert dvc_clean(built) and nothing_to_do(built)

    # A figure setting reruns figures only.
    set_value(built / "params/figures.yaml", "width", "800")
    out = run("dvc repro", built).stdout
    ran = ran_stages(out)
    assert ran and all(s.startswith(("figure", "report")) for s in ran), out
    assert dvc_clean(built) and nothing_to_do(built)


def test_push_clone_pull_is_byte_identical_and_in_sync(built: Path):
    run("git add -A && git commit -qm 'changed params' && dvc push -q", built)
    clone = built.parent / "b"
    run(f"git clone -q {built} {clone}", built.parent)
    run("grokscope pull", clone)

    here, there = result_files(built), result_files(clone)
    assert here.keys() == there.keys() and here
    different = [k for k in here if not filecmp.cmp(here[k], there[k], shallow=False)]
    assert not different
    assert dvc_clean(clone)
    assert nothing_to_do(clone)

    # A later params change is seen by both tools.
    set_value(clone / f"params/experiments/{TINY}.yaml", "epochs", "1900")
    dry = run("snakemake -n --cores 1", clone).stdout
    assert re.search(r"rule train:", dry) and "rule dataset:" not in dry, dry
    status = run("dvc status", clone).stdout
    assert f"train-{TINY}" in status and f"dataset-{TINY}" not in status, status


def test_malformed_params_fail_before_any_job(built: Path):
    params = built / f"params/experiments/{TINY}.yaml"
    original = params.read_text()
    before = {k: p.stat().st_mtime_ns for k, p in result_files(built).items()}
    try:
        for key, value in [("lr", '"fast"'), ("name", "quaternion"), ("frac_train", "1.5")]:
            params.write_text(original)
            set_value(params, key, value)
            done = run("snakemake --cores 1", built, check=False)
            assert done.returncode != 0
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            assert len(lines) == 1, done.stderr
            assert str(params.relative_to(built)) in lines[0] and "Traceback" not in done.stderr
            field = {"lr": "train.lr", "name": "group.name", "frac_train": "data.frac_train"}[key]
            assert field in lines[0]
    finally:
        params.write_text(original)
    after = {k: p.stat().st_mtime_ns for k, p in result_files(built).items()}
    assert after == before


def test_committed_dvc_yaml_is_current():
    done = run("grokscope dvc-yaml --check", ROOT, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dvc_stage_with_malformed_params_fails_in_one_line(built: Path, tmp_path: Path):
    # A DVC stage runs its step directly; the step reads its settings from params/ when it
    # starts and refuses a bad value in one line (on the terminal and in the job's log).
    repo = copy_repo(built, tmp_path / "bad")
    set_value(repo / f"params/experiments/{TINY}.yaml", "lr", '"fast"')
    done = run("dvc repro", repo, check=False)
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).splitlines()
    ours = [line for line in lines if line.startswith("grokscope ")]
    assert len(ours) == 1, done.stdout + done.stderr
    assert f"params/experiments/{TINY}.yaml: train.lr" in ours[0], ours
    assert f"(log: results/logs/train/{TINY}.log)" in ours[0]
    log = (repo / f"results/logs/train/{TINY}.log").read_text().strip().splitlines()
    assert log[-1] in ours[0] and "Traceback" not in done.stderr
    assert not (repo / f"results/{TINY}/train/final.json").exists()
