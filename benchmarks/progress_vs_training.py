"""Progress measures vs training: wall time of each experiment's `progress` job (every saved
checkpoint) against its `train` job, from the Snakemake benchmark files of the last run; then
how the measures' cost grows with the number of checkpoints N.

    snakemake --cores all            # builds results/benchmarks/<rule>/<experiment>.tsv
    python benchmarks/progress_vs_training.py [--experiment transformer_c113] [--rounds 3]

The first table's numbers come from the same run on the same machine (Snakemake's
`benchmark:` records each job's wall-clock seconds in the `s` column); goal: progress < 25%
of training for the default transformer. The second times the progress step's own
computation (:func:`grokscope.steps.progress.measure`, one thread) over N evenly spaced
checkpoints of the experiment's run, N = all/8, all/4, all/2, all (best of ``--rounds``):
linear in N means the same seconds per checkpoint at every N.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

BENCHMARKS = Path("results/benchmarks")


def seconds(rule: str, experiment: str) -> float | None:
    path = BENCHMARKS / rule / f"{experiment}.tsv"
    return float(pd.read_csv(path, sep="\t")["s"].iloc[-1]) if path.exists() else None


def scaling(experiment: str, rounds: int) -> None:
    import torch

    from grokscope.checkpoints import list_checkpoints, read_sidecar
    from grokscope.groups import make_group
    from grokscope.params import load_params
    from grokscope.steps.progress import measure

    torch.set_num_threads(1)  # as the pipeline's progress job
    base = Path("results") / experiment
    paths = list_checkpoints(base / "train/checkpoints")
    group = make_group(**read_sidecar(paths[-1])["params"]["group"])
    inputs = {"data": base / "data/pairs.parquet", "key_irreps": base / "analysis/key_irreps.json"}
    threshold = load_params("params")["analysis"]["neurons"]["clean_threshold"]
    print(f"\nprogress measures over N of the {len(paths)} checkpoints of {experiment}")
    print(f"{'N':>6}{'seconds':>10}{'ms/checkpoint':>15}{'vs smallest N':>15}")
    first = None
    for n in sorted({max(1, len(paths) // k) for k in (8, 4, 2, 1)}):
        chosen = [paths[round(i * (len(paths) - 1) / max(1, n - 1))] for i in range(n)]
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            measure(chosen, group, inputs, threshold, progress=False)
            best = min(best, time.perf_counter() - start)
        per = best / n
        first = first or per
        print(f"{n:>6}{best:>10.1f}{per * 1000:>15.0f}{per / first:>14.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment", default="transformer_c113")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    experiments = sorted(p.stem for p in (BENCHMARKS / "progress").glob("*.tsv"))
    if not experiments:
        print("no results/benchmarks/progress/*.tsv: run the pipeline first", file=sys.stderr)
        return 1
    print(f"{'experiment':<22}{'train s':>10}{'progress s':>12}{'progress/train':>16}")
    for exp in experiments:
        train, progress = seconds("train", exp), seconds("progress", exp)
        if train is None or progress is None:
            continue
        goal = "   goal < 0.25: " + ("met" if progress / train < 0.25 else "NOT met")
        print(f"{exp:<22}{train:>10.1f}{progress:>12.1f}{progress / train:>16.2f}"
              f"{goal if exp == args.experiment else ''}")  # fmt: skip
    scaling(args.experiment, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
