"""``grokscope pull``: fetch every artifact from the DVC remote and resync Snakemake.

After ``dvc pull`` the files' mtimes are in arbitrary order, so plain ``snakemake -n`` wants
to rerun downstream jobs; and ``snakemake --touch`` alone records metadata only for the jobs it
touched, so a later params change of an untouched job would be missed. ``dvc status`` (must
be clean: the pulled files are exactly what dvc.lock describes) followed by
``snakemake --touch --forceall`` fixes both: every job's metadata (params, code, inputs) is
recorded as of the pulled state, in DAG order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml


def _run(cmd: list[str], capture: bool = False) -> subprocess.CompletedProcess:
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, text=True, capture_output=capture)


def pull(remote: str | None = None, jobs: int | None = None) -> int:
    """Pull, check, resync. Returns a process exit code (0 on success)."""
    cmd = ["dvc", "pull"]
    if remote:
        cmd += ["--remote", remote]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if _run(cmd).returncode != 0:
        print("grokscope pull: `dvc pull` failed (see above)", file=sys.stderr)
        return 1

    status = _run(["dvc", "status", "--json"], capture=True)
    if status.returncode != 0:
        print(f"grokscope pull: `dvc status` failed: {status.stderr.strip()}", file=sys.stderr)
        return 1
    changed = json.loads(status.stdout or "{}")
    if changed:
        stages = ", ".join(sorted(changed))
        print(
            f"grokscope pull: workspace differs from dvc.lock after pulling ({stages}); "
            "run `dvc repro` (or commit the change) before resyncing",
            file=sys.stderr,
        )
        return 1

    touch = ["snakemake", "--touch", "--forceall", "--cores", "1"]
    if _run(touch).returncode != 0:
        print("grokscope pull: `snakemake --touch --forceall` failed", file=sys.stderr)
        return 1
    print("grokscope pull: artifacts in place; Snakemake and DVC agree", file=sys.stderr)
    return 0


def record() -> None:
    """After a successful plain ``snakemake`` run, record the outputs in dvc.lock.

    Without this, the first ``dvc repro`` after ``snakemake --cores all`` would rerun
    everything (DVC has never seen the outputs). Only stages whose outputs all exist are
    recorded, so a run of a few targets records just those.
    """
    with open("dvc.yaml") as f:
        stages = yaml.safe_load(f)["stages"]

    def paths(stage):
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind, []):
                yield next(iter(out)) if isinstance(out, dict) else out

    built = [name for name, stage in stages.items() if all(map(os.path.exists, paths(stage)))]
    if not built:
        return
    done = subprocess.run(["dvc", "commit", "--force", *built], capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        print(
            f"grokscope: outputs built but not recorded in dvc.lock: {reason[0]}", file=sys.stderr
        )
