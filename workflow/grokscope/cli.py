"""Command line: ``grokscope <command>`` (or ``python -m grokscope <command>``).

Pipeline steps (one per Snakemake rule; modules in :mod:`grokscope.steps`), all called the
same way::

    grokscope <step> --inputs NAME=PATH ... --outputs NAME=PATH ... --settings JSON

Project commands (run by people):

  validate   check every file in params/ (what the Snakefile does before any job)
  dvc-yaml   regenerate dvc.yaml from the Snakemake DAG (--check: fail if stale)
  pull       fetch every artifact from the DVC remote and bring Snakemake in step
  sync       bring Snakemake's records in step with dvc.lock (the Snakefile runs it itself
             whenever dvc.lock changed)

This module imports no step: the one a command names is imported when it runs, so each
step's process loads only its own code, and ``grokscope dvc-yaml`` gives each DVC stage
exactly that code as dependencies (:mod:`grokscope.closure`).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
import traceback
from pathlib import Path

from grokscope.errors import GrokscopeError

STEPS_DIR = Path(__file__).resolve().parent / "steps"


def step_names() -> dict[str, str]:
    """Every pipeline step → the first line of its module docstring (read, not imported)."""
    names = {}
    for path in sorted(STEPS_DIR.glob("*.py")):
        if path.stem != "__init__":
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            names[path.stem] = doc.split("\n")[0]
    return names


def _json(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not valid JSON: {err}") from None


def _named_path(item: str) -> tuple[str, Path]:
    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {item!r}")
    return name, Path(path)


def run_step(args: argparse.Namespace) -> None:
    from grokscope.process import keep_freed_memory, set_threads

    keep_freed_memory()  # see its docstring: page faults on every training step otherwise
    step = importlib.import_module(f"grokscope.steps.{args.command}")
    if "torch" in sys.modules:  # steps that never compute with torch do not pay its import
        set_threads(args.threads)
    step.run(dict(args.inputs), dict(args.outputs), args.settings)


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


def cmd_sync(args: argparse.Namespace) -> None:
    from grokscope.sync import resync

    sys.exit(resync())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grokscope", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, summary in step_names().items():
        p = sub.add_parser(name, help=f"pipeline step: {summary}", description=summary)
        p.add_argument("--inputs", nargs="*", type=_named_path, default=[], metavar="NAME=PATH")
        p.add_argument("--outputs", nargs="+", type=_named_path, required=True, metavar="NAME=PATH")
        p.add_argument("--settings", type=_json, default={}, help="the step's settings (JSON)")
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
        p.set_defaults(func=run_step)

    p = sub.add_parser("validate", help="validate params/ against the schemas")
    p.add_argument("--params-dir", default="params")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("dvc-yaml", help="regenerate dvc.yaml from the Snakemake DAG")
    p.add_argument("--out", default="dvc.yaml")
    p.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    p.set_defaults(func=cmd_dvc_yaml)

    p = sub.add_parser("pull", help="fetch every artifact from the DVC remote, resync Snakemake")
    p.add_argument("--remote", default=None, help="DVC remote (default: the configured one)")
    p.add_argument("--jobs", type=int, default=None, help="parallel downloads")
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("sync", help="bring Snakemake's records in step with dvc.lock")
    p.set_defaults(func=cmd_sync)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except GrokscopeError as err:
        # Expected failures are one line, no traceback.
        sys.exit(f"grokscope {args.command}: {err}")
    except Exception as err:
        # A bug (or a fault nothing anticipated): the traceback for whoever debugs it (a job's
        # log), then the same closing line as any failure (grokscope.failures reads it).
        traceback.print_exc()
        first = (str(err).splitlines() or [""])[0][:300]
        sys.exit(
            f"grokscope {args.command}: unexpected {type(err).__name__}: {first} (not a params "
            "or input problem grokscope knows; the traceback is above in this output)"
        )
