"""Progress measures vs training: wall time of each experiment's `progress` job (every saved
checkpoint) against its `train` job, from the Snakemake benchmark files of the last run.

    snakemake --cores all            # builds results/benchmarks/<rule>/<experiment>.tsv
    python benchmarks/progress_vs_training.py

Both numbers come from the same run on the same machine (Snakemake's `benchmark:` records
each job's wall-clock seconds in the `s` column).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

BENCHMARKS = Path("results/benchmarks")


def seconds(rule: str, experiment: str) -> float | None:
    path = BENCHMARKS / rule / f"{experiment}.tsv"
    return float(pd.read_csv(path, sep="\t")["s"].iloc[-1]) if path.exists() else None


def main() -> int:
    experiments = sorted(p.stem for p in (BENCHMARKS / "progress").glob("*.tsv"))
    if not experiments:
        print("no results/benchmarks/progress/*.tsv: run the pipeline first", file=sys.stderr)
        return 1
    print(f"{'experiment':<22}{'train s':>10}{'progress s':>12}{'progress/train':>16}")
    for exp in experiments:
        train, progress = seconds("train", exp), seconds("progress", exp)
        if train is None or progress is None:
            continue
        print(f"{exp:<22}{train:>10.1f}{progress:>12.1f}{progress / train:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
