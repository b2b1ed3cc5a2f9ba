"""Command line: ``grokscope <command>`` (or ``python -m grokscope <command>``).

Pipeline steps (one per Snakemake rule; modules in :mod:`grokscope.steps`), all called the
same way::

    grokscope <step> --inputs NAME=PATH ... --outputs NAME=PATH ... --settings JSON

Snakemake passes the settings themselves; a DVC stage passes where they come from
(``--settings-from SPEC``, resolved from ``params/`` when the step starts:
:mod:`grokscope.settings`) and where its log goes (``--log-file PATH``).

Project commands (run by people):

  validate   check every file in params/ (what the Snakefile does before any job)
  dvc-yaml   regenerate dvc.yaml and pipelines/*/dvc.yaml from the Snakemake DAG (--check)
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
import os
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
    from grokscope.process import keep_freed_memory

    keep_freed_memory()  # see its docstring: page faults on every training step otherwise
    if args.command.startswith("figure_"):  # a figure job exports PNGs through a browser
        from grokscope.plots.browser import early_browser

        with early_browser():  # it comes up while the step loads its code, params and tables
            _run(args)
    else:
        _run(args)


def _run(args: argparse.Namespace) -> None:
    from grokscope.process import set_threads

    settings = args.settings
    if args.settings_from:  # a step that reads no params ({}) needs none loaded
        from grokscope.params import load_params
        from grokscope.settings import resolve

        settings = resolve(args.settings_from, load_params("params"))
    step = importlib.import_module(f"grokscope.steps.{args.command}")
    if "torch" in sys.modules:  # steps that never compute with torch do not pay its import
        set_threads(args.threads)
    step.run(dict(args.inputs), dict(args.outputs), settings)


def log_to(path: str) -> int:
    """Send this process's stderr (progress, warnings, the closing line) to ``path``, as
    Snakemake's ``2> {log}`` does; returns a descriptor of the stderr it replaced."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    terminal = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 2)
    os.close(log)
    return terminal


def cmd_validate(args: argparse.Namespace) -> None:
    from grokscope.params import load_params

    p = load_params(args.params_dir)
    print(f"params OK: {len(p['experiments'])} experiments, suite {p['suite']['experiments']}")


def cmd_dvc_yaml(args: argparse.Namespace) -> None:
    from grokscope.dvcgen import write_or_check

    sys.exit(write_or_check(check=args.check))


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
        given = p.add_mutually_exclusive_group()
        given.add_argument("--settings", type=_json, default={}, help="the step's settings (JSON)")
        given.add_argument(
            "--settings-from", type=_json, default=None, metavar="SPEC",
            help="where the settings come from in params/ (JSON, grokscope.settings)",
        )  # fmt: skip
        # Not `--log`: kaleido's logger parses sys.argv at import and takes `--log` for an
        # abbreviation of its own `--logistro-*` options.
        p.add_argument("--log-file", default=None, metavar="PATH", help="write stderr to PATH")
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
        p.set_defaults(func=run_step)

    p = sub.add_parser("validate", help="validate params/ against the schemas")
    p.add_argument("--params-dir", default="params")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "dvc-yaml", help="regenerate dvc.yaml and pipelines/*/dvc.yaml from the Snakemake DAG"
    )
    p.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
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
    log = getattr(args, "log_file", None)
    terminal = log_to(log) if log else None
    try:
        args.func(args)
    except GrokscopeError as err:
        # Expected failures are one line, no traceback.
        fail(f"grokscope {args.command}: {err}", terminal, log)
    except Exception as err:
        # A bug (or a fault nothing anticipated): the traceback for whoever debugs it (a job's
        # log), then the same closing line as any failure (grokscope.failures reads it).
        traceback.print_exc()
        first = (str(err).splitlines() or [""])[0][:300]
        fail(
            f"grokscope {args.command}: unexpected {type(err).__name__}: {first} (not a params "
            "or input problem grokscope knows; the traceback is above in this output)",
            terminal,
            log,
        )


def fail(line: str, terminal: int | None, log: str | None) -> None:
    """Exit with ``line`` as the last line of stderr; with ``--log-file``, on the replaced stderr
    too (the terminal, where DVC shows a stage's output), naming the log."""
    if terminal is not None:
        os.write(terminal, f"{line} (log: {log})\n".encode())
    sys.exit(line)
