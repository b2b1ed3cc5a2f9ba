"""Command line: ``grokscope <command>`` (or ``python -m grokscope <command>``).

Pipeline steps (called by the Snakemake rules, which pass params as JSON):
  dataset          all pairs of a group with the train/test split → Parquet
  train            train one experiment → checkpoints, metrics table, final metrics
  train-batched    train K seeds of one experiment as one stacked model (same outputs per seed)
  import           convert an externally trained checkpoint into the same outputs as train
  analyse STEP     one analysis step: cache, key-irreps, neurons, logits, cyclic,
                   ablations, progress, universality
  figure JOB       render one figure job's figures → HTML + PNG
  report           the HTML index of every experiment's metrics and figures

Project commands (run by people):
  validate         check every file in params/ (what the Snakefile does before any job)
  dvc-yaml         regenerate dvc.yaml from the Snakemake DAG (--check: fail if stale)
  pull             dvc pull, require a clean dvc status, resync Snakemake's metadata

Each step module is imported only when its command runs, so ``grokscope validate`` is quick
and the generated DVC stages depend on exactly the code they run (see grokscope.dvcgen).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grokscope.io import ArtifactError
from grokscope.params import ParamsError


def _json(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from None


def _set_threads(threads: int) -> None:
    """Use exactly the rule's `threads` (Snakemake's scheduling assumes it) and say so."""
    import torch

    torch.set_num_threads(threads)
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)


def cmd_dataset(args: argparse.Namespace) -> None:
    from grokscope.data import make_dataset
    from grokscope.groups import make_group
    from grokscope.io import write_parquet

    exp = args.experiment
    group = make_group(exp["group"]["name"], exp["group"]["n"])
    df = make_dataset(group, exp["data"]["frac_train"], exp["seed"], exp["data"]["split"])
    write_parquet(args.out, df, {"group": exp["group"], "data": exp["data"], "seed": exp["seed"]})


def cmd_train(args: argparse.Namespace) -> None:
    from grokscope.io import read_parquet
    from grokscope.train import TrainPaths, train

    _set_threads(args.threads)
    dataset = read_parquet(args.data)
    paths = TrainPaths(args.checkpoints, args.metrics_csv, args.metrics_json, args.resume)
    final = train(args.experiment, dataset, paths, progress=not args.quiet)
    print(json.dumps(final), file=sys.stderr)


def cmd_train_batched(args: argparse.Namespace) -> None:
    from grokscope.batched import seed_paths, train_batched
    from grokscope.io import read_parquet

    if not len(args.seeds) == len(args.data) == len(args.out):
        sys.exit("grokscope train-batched: need as many --data and --out as --seeds")
    _set_threads(args.threads)
    exps = [{**args.experiment, "seed": seed} for seed in args.seeds]
    datasets = [read_parquet(path) for path in args.data]
    paths = [seed_paths(out) for out in args.out]
    finals = train_batched(exps, datasets, paths, progress=not args.quiet)
    for seed, final in zip(args.seeds, finals, strict=True):
        print(json.dumps({"seed": seed, **final}), file=sys.stderr)


def _named_paths(items: list[str]) -> dict[str, Path]:
    pairs = [item.split("=", 1) for item in items]
    if any(len(p) != 2 for p in pairs):
        raise argparse.ArgumentTypeError(f"expected name=path items, got {items}")
    return {name: Path(path) for name, path in pairs}


def cmd_analyse(args: argparse.Namespace) -> None:
    from grokscope.analyse import STEPS

    _set_threads(args.threads)
    STEPS[args.step](_named_paths(args.inputs), args.settings, _named_paths(args.outputs))


def cmd_import(args: argparse.Namespace) -> None:
    from grokscope.external import step_import

    _set_threads(args.threads)
    step_import(_named_paths(args.inputs), args.experiment, _named_paths(args.outputs))


def cmd_figure(args: argparse.Namespace) -> None:
    from grokscope.figures import render_job

    names = render_job(args.name, _named_paths(args.inputs), args.style, args.out_dir)
    print(f"{args.name}: {len(names)} figures: {' '.join(names)}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> None:
    from grokscope.report import write_report

    write_report(args.inputs, args.experiments, args.out)


def cmd_validate(args: argparse.Namespace) -> None:
    from grokscope.params import load_params

    p = load_params(args.params_dir)
    print(f"params OK: {len(p['experiments'])} experiments, suite {p['suite']['experiments']}")


def cmd_dvc_yaml(args: argparse.Namespace) -> None:
    from grokscope.dvcgen import write_or_check

    sys.exit(write_or_check(Path(args.out), check=args.check))


def cmd_pull(args: argparse.Namespace) -> None:
    from grokscope.sync import pull

    sys.exit(pull(args.remote, jobs=args.jobs))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grokscope", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("dataset", help="all pairs + split → Parquet")
    p.add_argument("--experiment", type=_json, required=True, help="params (JSON)")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("train", help="train one experiment")
    p.add_argument("--experiment", type=_json, required=True, help="params (JSON)")
    p.add_argument("--data", type=Path, required=True, help="pairs Parquet from `dataset`")
    p.add_argument("--checkpoints", type=Path, required=True, help="output directory")
    p.add_argument("--metrics-csv", type=Path, required=True)
    p.add_argument("--metrics-json", type=Path, required=True)
    p.add_argument("--resume", type=Path, required=True, help="scratch dir kept across crashes")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("train-batched", help="train K seeds of one experiment as one model")
    p.add_argument("--experiment", type=_json, required=True, help="params (JSON; seed ignored)")
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_argument("--data", type=Path, nargs="+", required=True, help="one Parquet per seed")
    p.add_argument(
        "--out",
        type=Path,
        nargs="+",
        required=True,
        help="one directory per seed: DIR/train/{checkpoints,metrics.csv,final.json}, "
        "scratch DIR/.resume/train",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train_batched)

    p = sub.add_parser("analyse", help="one analysis step (see grokscope.analyse.STEPS)")
    p.add_argument(
        "step",
        choices=[
            "cache",
            "key-irreps",
            "neurons",
            "logits",
            "cyclic",
            "ablations",
            "progress",
            "universality",
        ],  # fmt: skip
    )
    p.add_argument("--inputs", nargs="+", default=[], metavar="NAME=PATH")
    p.add_argument("--settings", type=_json, default={}, help="settings (JSON)")
    p.add_argument("--outputs", nargs="+", required=True, metavar="NAME=PATH")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(func=cmd_analyse)

    p = sub.add_parser("import", help="convert an externally trained checkpoint")
    p.add_argument("--experiment", type=_json, required=True, help="params (JSON)")
    p.add_argument("--inputs", nargs="+", required=True, metavar="NAME=PATH")
    p.add_argument("--outputs", nargs="+", required=True, metavar="NAME=PATH")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("figure", help="render one figure job (HTML + PNG)")
    p.add_argument("name", help="figure job (grokscope.figures.FIGURE_JOBS), e.g. neurons")
    p.add_argument("--inputs", nargs="+", required=True, metavar="NAME=PATH")
    p.add_argument("--style", type=_json, required=True, help="figure settings (JSON)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.set_defaults(func=cmd_figure)

    p = sub.add_parser("report", help="results/index.html: every experiment's metrics, figures")
    p.add_argument(
        "--inputs",
        nargs="+",
        type=Path,
        required=True,
        help="results/<exp>/figures/<job> directories and results/<exp>/.../*.json metrics",
    )
    p.add_argument("--experiments", type=_json, required=True, help="experiment summaries (JSON)")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("validate", help="validate params/ against workflow/schemas/")
    p.add_argument("--params-dir", default="params")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("dvc-yaml", help="regenerate dvc.yaml from the Snakemake DAG")
    p.add_argument("--out", default="dvc.yaml")
    p.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    p.set_defaults(func=cmd_dvc_yaml)

    p = sub.add_parser("pull", help="dvc pull + status check + Snakemake resync")
    p.add_argument("--remote", default=None, help="DVC remote (default: the configured one)")
    p.add_argument("--jobs", type=int, default=None, help="parallel downloads")
    p.set_defaults(func=cmd_pull)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ParamsError, ArtifactError) as err:
        # Expected failures are one line, no traceback.
        sys.exit(f"grokscope {args.command}: {err}")
