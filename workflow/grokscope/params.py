"""Reading and validating the files in ``params/``.

Every check runs before any job, and every failure is one :class:`ParamsError` whose message
is a single line naming the file and the field, e.g.
``params/experiments/mlp_d53.yaml: data.frac_train: 1.5 is not less than 1``.
"""

from __future__ import annotations

import copy
import itertools
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from grokscope.groups import group_order

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
# Refuse work whose rough working set exceeds this share of physical memory.
MEMORY_SHARE = 0.5


class ParamsError(ValueError):
    """A params file is malformed; ``str(err)`` is one line naming file and field."""


@cache
def _schema(kind: str) -> dict[str, Any]:
    with open(SCHEMA_DIR / f"{kind}.schema.yaml") as f:
        return yaml.safe_load(f)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is a one-line ParamsError."""
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{path}: YAML syntax error at {where}: {problem}") from None


def _field(err: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in err.absolute_path]
    # For "required" the missing key is in the message, not the path; name it as the field.
    if err.validator == "required":
        parts.append(err.message.split("'")[1])
    elif err.validator == "additionalProperties" and "'" in err.message:
        parts.append(err.message.split("'")[1])
    elif "propertyNames" in err.schema_path:
        parts.append(str(err.instance))
    return ".".join(parts) or "(top level)"


def validate(data: Any, kind: str, path: str | Path) -> dict[str, Any]:
    """Validate parsed params against ``workflow/schemas/<kind>.schema.yaml``; return them."""
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: (top level): expected a mapping, got {type(data).__name__}")
    validator = jsonschema.Draft202012Validator(_schema(kind))
    err = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if err is not None:
        message = err.message if len(err.message) < 160 else err.message[:157] + "..."
        if "propertyNames" in err.schema_path:
            message = "unknown key for this model kind"
        raise ParamsError(f"{path}: {_field(err)}: {message}")
    return data


def physical_memory() -> int:
    """Bytes of RAM on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def training_bytes(order: int, model: dict[str, Any]) -> int:
    """Rough peak bytes to train ``model`` full-batch on all order² pairs (float32).

    Counts the widest per-example activations three times (forward, saved for backward,
    gradient) plus the int64 dataset; good to a factor of two, which is all a refusal needs.
    """
    kind = model["kind"]
    if kind == "transformer":
        per_example = 3 * (6 * model["d_model"] + 2 * model["d_mlp"]) + order
    else:
        per_example = 2 * model["embed_dim"] + model.get("hidden_dim", 0) + order
    return order * order * (3 * 4 * per_example + 3 * 8)


def _count(x: float) -> str:
    """1,234 for ordinary numbers, 1.2e+15 for astronomical ones (n! grows fast)."""
    return f"{x:,.0f}" if x < 1e12 else f"{float(x):.1e}"


def check_experiment(exp: dict[str, Any], path: str | Path) -> None:
    """Checks that span fields (train xor import, sizes that would not fit, empty splits)."""
    if ("train" in exp) == ("import" in exp):
        raise ParamsError(f"{path}: train: give exactly one of `train` or `import`")
    if "import" in exp and exp["model"]["kind"] != "transformer":
        raise ParamsError(f"{path}: model.kind: imported checkpoints are transformers")
    order = group_order(exp["group"]["name"], exp["group"]["n"])
    num_pairs = order * order
    n_train = int(exp["data"]["frac_train"] * num_pairs) if order < 1e12 else 1
    if n_train == 0 or n_train == num_pairs:
        raise ParamsError(
            f"{path}: data.frac_train: leaves an empty split ({n_train} of {num_pairs} pairs)"
        )
    need, have = training_bytes(order, exp["model"]), physical_memory()
    if need > MEMORY_SHARE * have:
        raise ParamsError(
            f"{path}: group.n: training on all {_count(num_pairs)} pairs of a group of order "
            f"{_count(order)} needs about {_count(need / 2**30)} GiB, more than "
            f"{MEMORY_SHARE:.0%} of this machine's {have / 2**30:.1f} GiB"
        )


def cache_bytes(exp: dict[str, Any], cache: dict[str, Any]) -> tuple[int, int]:
    """(peak memory, disk) bytes to cache ``cache.hooks`` at ``cache.checkpoints`` of ``exp``.

    Units per hook come from one forward pass of the model on a single pair; every hook is
    held at once for all order² pairs (float32 + int32 a, b, c), plus a table copy of the
    largest.
    """
    import torch

    from grokscope.activations import resolve_hooks
    from grokscope.models import build_model
    from grokscope.train import checkpoint_epochs

    # Only called for experiments whose training fits, so the order is modest here.
    order = group_order(exp["group"]["name"], exp["group"]["n"])
    model = build_model(exp["model"], order, 0)
    pair = torch.zeros(1, 2, dtype=torch.int64)
    _, acts = model.run_with_cache(pair, resolve_hooks(model, cache["hooks"]))
    units = [a[0].numel() for a in acts.values()]
    per_hook = [order * order * (4 * u + 12) for u in units]
    if cache["checkpoints"] == "all" and "train" in exp:
        t = exp["train"]
        checkpoints = len(
            checkpoint_epochs(t["epochs"], t["checkpoint_every"], t["log_checkpoints"])
        )
    elif isinstance(cache["checkpoints"], list):
        checkpoints = len(cache["checkpoints"]) + 1
    else:
        checkpoints = 1
    return sum(per_hook) + 2 * max(per_hook), sum(per_hook) * checkpoints


def check_cache(name: str, exp: dict[str, Any], cache: dict[str, Any], path: Path) -> None:
    """Refuse an activation cache that would not fit in memory or on disk, with the estimate."""
    try:
        memory, disk = cache_bytes(exp, cache)
    except ValueError as err:  # an unknown hook name for this model
        raise ParamsError(f"{path}: cache.hooks: {err} (experiment {name})") from None
    have = physical_memory()
    if memory > MEMORY_SHARE * have:
        raise ParamsError(
            f"{path}: cache.hooks: caching these hooks for experiment {name} needs about "
            f"{_count(memory / 2**30)} GiB of memory, more than {MEMORY_SHARE:.0%} of this "
            f"machine's {have / 2**30:.1f} GiB"
        )
    free = shutil.disk_usage(".").free
    if disk > free:
        raise ParamsError(
            f"{path}: cache.checkpoints: caching experiment {name} needs about "
            f"{_count(disk / 2**30)} GiB of disk, more than the {free / 2**30:.1f} GiB free"
        )


def load_experiment(path: str | Path) -> dict[str, Any]:
    """Read, schema-validate and sanity-check one experiment file (sweeps: every member)."""
    return _load_members(path)[0]


def _load_members(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the file's params, its experiments: itself, or its sweep's members), all checked."""
    exp = validate(read_yaml(path), "experiment", path)
    members = expand_sweep(Path(path).stem, exp, path)
    for member in members.values():
        check_experiment(member, path)
    return exp, members


def _member_name(key: str, value: Any) -> str:
    leaf = key.split(".")[-1]
    return f"{leaf}{value}"


def expand_sweep(name: str, exp: dict[str, Any], path: str | Path) -> dict[str, dict[str, Any]]:
    """An experiment with a ``sweep`` block as its members ``{name-seed3: params, …}``.

    ``sweep`` maps a dotted key (``seed``, ``train.lr``, …) to a list of values; members are
    the cartesian product, named ``<name>-<leaf><value>`` per swept key, each validated like
    an experiment of its own. Without ``sweep``: ``{name: exp}``.
    """
    if "sweep" not in exp:
        if exp.get("batched"):
            raise ParamsError(f"{path}: batched: needs a `sweep` over seeds")
        return {name: exp}
    if exp.get("batched") and (set(exp["sweep"]) != {"seed"} or "train" not in exp):
        raise ParamsError(f"{path}: batched: only a trained sweep over `seed` alone is batched")
    base = {k: v for k, v in exp.items() if k not in ("sweep", "batched")}
    keys = list(exp["sweep"])
    members = {}
    for values in itertools.product(*(exp["sweep"][k] for k in keys)):
        member = copy.deepcopy(base)
        for key, value in zip(keys, values, strict=True):
            *parents, leaf = key.split(".")
            node = member
            for part in parents:
                if not isinstance(node.get(part), dict):
                    raise ParamsError(f"{path}: sweep.{key}: no such key to sweep")
                node = node[part]
            if leaf not in node:
                raise ParamsError(f"{path}: sweep.{key}: no such key to sweep")
            node[leaf] = value
        member_name = "-".join(
            [name] + [_member_name(k, v) for k, v in zip(keys, values, strict=True)]
        )
        validate(member, "experiment", f"{path} (sweep member {member_name})")
        members[member_name] = member
    return members


def load_params(params_dir: str | Path = "params") -> dict[str, Any]:
    """Everything in ``params/``, validated.

    Returns ``suite``, ``figures``, ``analysis``, ``experiments`` (every experiment by name,
    sweeps expanded into their members), ``sweeps`` (sweep name → member names) and
    ``sources`` (experiment name → its params file stem), ``batched`` (sweeps trained as one
    stacked model). Every experiment file is
    validated, including ones the suite does not list, so a broken file never waits until
    someone enables it.
    """
    params_dir = Path(params_dir)
    suite_path, figures_path = params_dir / "suite.yaml", params_dir / "figures.yaml"
    analysis_path = params_dir / "analysis.yaml"
    suite = validate(read_yaml(suite_path), "suite", suite_path)
    figures = validate(read_yaml(figures_path), "figures", figures_path)
    analysis = validate(read_yaml(analysis_path), "analysis", analysis_path)
    experiments, sweeps, sources, batched = {}, {}, {}, set()
    for path in sorted((params_dir / "experiments").glob("*.yaml")):
        exp, members = _load_members(path)
        experiments |= members
        sources |= {member: path.stem for member in members}
        if len(members) > 1 or path.stem not in members:
            sweeps[path.stem] = list(members)
            if exp.get("batched"):
                batched.add(path.stem)
    for i, name in enumerate(suite["experiments"]):
        if name not in sources.values():
            raise ParamsError(
                f"{suite_path}: experiments.{i}: no file params/experiments/{name}.yaml"
            )
        for member in sweeps.get(name, [name]):
            check_cache(member, experiments[member], analysis["cache"], analysis_path)
    return {
        "suite": suite,
        "figures": figures,
        "analysis": analysis,
        "experiments": experiments,
        "sweeps": sweeps,
        "batched": sorted(batched),
        "sources": sources,
    }
