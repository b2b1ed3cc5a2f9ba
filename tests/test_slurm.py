"""The pipeline on a real SLURM cluster: `snakemake --profile workflow/profiles/slurm`.

A single-node SLURM (Debian's slurmctld, slurmd and munge; workflow/scripts/local_slurm.sh
installs it with apt if needed, configures it for this machine and starts it; the fixture stops
it afterwards) runs the tiny suite through sbatch. Its one GPU is a GRES backed by /dev/null:
the jobs that ask for a GPU are scheduled as on a GPU node, and training falls back to the CPU,
so the results can be compared byte for byte with a local `snakemake --cores 2` run.

Needs root (daemons, /etc/slurm) and either SLURM already installed or apt-get; otherwise the
cluster test is skipped with the reason. The dry-run test needs neither.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from repo_utils import ROOT, TINY, make_repo, result_files
from repo_utils import run as run_in_repo

SCRIPT = ROOT / "workflow/scripts/local_slurm.sh"
MARKER = "# Written by workflow/scripts/local_slurm.sh"
GPU_RULES = {"train", "cache_activations"}
# The first status check comes this many seconds after a submission (the profile keeps the
# plugin's default of 40 s, polite on a shared cluster, slow for a test of short jobs).
STATUS_DELAY = "--slurm-init-seconds-before-status-checks 2"
pytestmark = pytest.mark.slow


def run(cmd: str, cwd: Path, check: bool = True):
    """`repo_utils.run` without SLURM_CONF: the local cluster's config is at the default path."""
    return run_in_repo(cmd, cwd, check=check, env={"SLURM_CONF": None})


def is_figure(relpath: str) -> bool:
    """Rendered figures (PNG via Chromium, HTML with plotly) and the HTML index."""
    return "figures" in Path(relpath).parts or relpath == "index.html"


def output_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def default_suite() -> list[str]:
    """The default experiments: every trained experiment in params/ except the test ones."""
    names = []
    for path in sorted((ROOT / "params/experiments").glob("*.yaml")):
        params = yaml.safe_load(path.read_text())
        if "train" in params and not path.stem.startswith("tiny_"):
            names.append(path.stem)
    return names


def cluster_unavailable() -> str | None:
    """Why a local SLURM cannot be set up here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to run slurmctld, slurmd and munged and to write /etc/slurm"
    installed = all(shutil.which(t) for t in ("slurmctld", "slurmd", "sbatch", "munged"))
    if not installed and not shutil.which("apt-get"):
        return "SLURM is not installed and there is no apt-get to install it"
    for conf in ("/etc/slurm/slurm.conf", "/etc/slurm/gres.conf"):
        if os.path.exists(conf) and not Path(conf).read_text().startswith(MARKER):
            return f"{conf} belongs to an existing SLURM set-up; not replacing it"
    busy = subprocess.run(["pgrep", "-x", "slurmctld|slurmd"], capture_output=True)
    if busy.returncode == 0:
        return "slurmctld or slurmd is already running on this machine"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Path:
    """A running single-node SLURM; stopped (and its config removed) afterwards."""
    reason = cluster_unavailable()
    if reason:
        pytest.skip(f"no local SLURM cluster: {reason}")
    state = tmp_path_factory.mktemp("slurm")
    try:
        run(f"bash {SCRIPT} start {state}", ROOT)
        yield state
    finally:
        run(f"bash {SCRIPT} stop {state}", ROOT, check=False)


def differences(here: dict[str, Path], there: dict[str, Path], keys: list[str]) -> str:
    """The differing files among ``keys``, with the start of small text files."""
    lines = []
    for k in keys:
        if not filecmp.cmp(here[k], there[k], shallow=False):
            lines.append(k)
            if k.endswith((".json", ".csv")) and here[k].stat().st_size < 4000:
                lines += [
                    "  cluster: " + here[k].read_text()[:1500],
                    "  local:   " + there[k].read_text()[:1500],
                ]
    return "\n".join(lines)


def test_tiny_suite_through_sbatch_matches_a_local_run(cluster: Path, tiny_build: Path, tmp_path):
    # The reference: the test run's shared local build (`snakemake --cores 2`), a committed
    # snapshot of the working tree; the cluster run clones it, so both build the same sources.
    local_build = tiny_build
    repo = tmp_path / "repo"
    run(f"git clone -q {local_build} {repo}", tmp_path)
    done = run(f"snakemake --profile workflow/profiles/slurm {STATUS_DELAY}", repo)
    out = output_of(done)
    assert "Using profile workflow/profiles/slurm" in out

    # Every job went through sbatch; Snakemake says which SLURM job ran which rule.
    submitted = {
        int(jobid): rule
        for jobid, rule in re.findall(
            r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/", out
        )
    }
    local_jobs = re.findall(r"^rule (\w+):", run("snakemake -n -F", local_build).stdout, re.M)
    local_jobs = [rule for rule in local_jobs if rule != "all"]  # `all` runs in Snakemake
    assert sorted(submitted.values()) == sorted(local_jobs), (submitted, local_jobs)

    # ... and each shows up in SLURM's records: slurmctld's (scontrol, kept for MinJobAge)
    # and the job completion log.
    completions = (cluster / "jobcomp.txt").read_text()
    for jobid, rule in submitted.items():
        record = run(f"scontrol show job -o {jobid}", repo).stdout
        fields = dict(re.findall(r"(\w+)=(\S*)", record))
        assert fields["JobState"] == "COMPLETED", record
        assert re.fullmatch(rf"rule_{rule}(_wildcards_\w+)?", fields["Comment"]), record
        if rule in GPU_RULES:
            assert fields["Partition"] == "gpu" and "gpu:1" in fields["TresPerJob"], record
        else:
            assert fields["Partition"] == "cpu" and "gpu" not in record, record
        assert re.search(rf"^JobId={jobid} .*JobState=COMPLETED", completions, re.M), jobid

    # The same results as the local run: data byte for byte; figures (PNG rendered by Chromium,
    # plotly HTML) by name.
    here, there = result_files(repo), result_files(local_build)
    assert here.keys() == there.keys() and here
    data = [k for k in here if not is_figure(k)]
    assert any(k.endswith(".safetensors") for k in data) and any("analysis" in k for k in data)
    assert not differences(here, there, data), differences(here, there, data)

    # The cluster run recorded its outputs like a local one: both tools have nothing to do.
    assert "Nothing to be done" in run("snakemake -n --cores 1", repo).stdout
    assert run("dvc status --json", repo).stdout.strip() in ("{}", "")


def test_dry_run_of_default_suite_shows_gpu_requests(tmp_path):
    suite = default_suite()
    assert {"mlp_d53", "mlp_c113", "bilinear_c113", "transformer_c113"} <= set(suite), suite
    repo = make_repo(tmp_path / "repo", suite)
    out = output_of(run("snakemake --profile workflow/profiles/slurm -n", repo))

    jobs = re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", out, re.M | re.S)
    resources = {}
    for rule, body in jobs:
        exp = re.search(r"wildcards: exp=(\w+)", body)
        found = re.search(r"resources: (.*)", body)
        if exp and found:
            resources[rule, exp.group(1)] = dict(
                kv.split("=", 1) for kv in found.group(1).split(", ") if "=" in kv
            )
    for exp in suite:
        for rule in GPU_RULES:
            res = resources[rule, exp]
            assert res["gpu"] == "1" and res["slurm_partition"] == "gpu", (rule, exp, res)
        dataset = resources["dataset", exp]
        assert dataset.get("gpu", "0") == "0" and dataset["slurm_partition"] == "cpu", dataset


def test_local_runs_request_no_gpu(tmp_path):
    """Without the slurm profile no job asks for a GPU (rules declare gpu=0)."""
    repo = make_repo(tmp_path / "repo", [TINY])
    out = output_of(run("snakemake -n --cores 2", repo))
    assert "rule train:" in out
    assert not re.search(r"resources: .*\bgpu=[1-9]", out), out
