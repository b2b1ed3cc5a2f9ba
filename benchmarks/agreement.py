"""Snakemake and DVC in step on the default suite: what a no-op, a status check, the closing
record and a pull cost, and the same with a 50-seed sweep added to the suite.

    snakemake --cores all                  # build the default suite first
    python benchmarks/agreement.py [--runs 3] [--sweep 50]

Everything but one ``dvc push`` (to the configured remote) happens in a temporary clone of
this repository beside it: ``grokscope pull`` into a fresh clone each run, then, in the last
clone, the no-op ``snakemake --cores all``, ``dvc status``, and the closing record of every
stage (what a full build ends with) and of one stage (a one-job change). With ``--sweep N``
the clone's suite gains an N-seed sweep of the small dihedral experiment (``tiny_d7``),
built once (several minutes), and the no-op and ``dvc status`` are timed again. Goals are
printed beside each figure.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml
from built_clone import ROOT, clean, fresh_clone, remote_url, row, sh

from grokscope import dvcfiles

# The closing record of a run that executed the named stages' jobs (all of them: a full build).
RECORD = """\
import sys
from grokscope import dvcfiles
from grokscope.sync import owners, record
every = owners(dvcfiles.stages())
record([path for path, stage in every.items() if stage in sys.argv[1:]], every)
"""


def timed(cmd: str, cwd: Path, runs: int, setup=None) -> list[float]:
    out = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        sh(cmd, cwd)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweep", type=int, default=50, help="seeds (0: skip the sweep)")
    args = parser.parse_args()
    remote = remote_url()

    work = Path(tempfile.mkdtemp(prefix="grokscope-bench-", dir=ROOT.parent))
    print(f"{'':<46}{'min':>8}{'median':>8}{'max':>8}   goal")
    try:
        clone = work / "clone"

        pulls = timed("grokscope pull", clone, args.runs, lambda: fresh_clone(clone, remote))
        row("grokscope pull (fresh clone, local remote)", pulls, 30)
        assert clean(clone), "not in step after grokscope pull"
        row("no-op snakemake --cores all", timed("snakemake --cores all", clone, args.runs), 10)
        row("dvc status", timed("dvc status", clone, args.runs), 3)
        stages = sorted(dvcfiles.stages(clone))
        (clone / ".record.py").write_text(RECORD)
        record = "python .record.py"
        row(f"closing record, all {len(stages)} stages",
            timed(f"{record} {' '.join(stages)}", clone, args.runs), None)  # fmt: skip
        row("closing record, one stage", timed(f"{record} {stages[-1]}", clone, args.runs), None)

        if args.sweep:
            sweep = yaml.safe_load((clone / "params/experiments/tiny_d7.yaml").read_text())
            sweep["sweep"] = {"seed": list(range(args.sweep))}
            (clone / "params/experiments/bench_sweep.yaml").write_text(yaml.safe_dump(sweep))
            suite = yaml.safe_load((clone / "params/suite.yaml").read_text())
            suite["experiments"].append("bench_sweep")
            (clone / "params/suite.yaml").write_text(yaml.safe_dump(suite))
            sh("grokscope dvc-yaml", clone)
            start = time.perf_counter()
            sh("snakemake --cores all", clone)
            jobs = len(dvcfiles.stages(clone))
            print(f"(built the {args.sweep}-seed sweep: {jobs} stages in all, "
                  f"{time.perf_counter() - start:.0f} s)")  # fmt: skip
            assert clean(clone), "not in step after building the sweep"
            row(f"no-op snakemake, + {args.sweep}-seed sweep",
                timed("snakemake --cores all", clone, args.runs), 15)  # fmt: skip
            row(f"dvc status, + {args.sweep}-seed sweep", timed("dvc status", clone, args.runs), 5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
