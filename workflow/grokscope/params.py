"""Reading and validating the files in ``params/``.

Every check runs before any job, and every failure is one :class:`ParamsError` whose message
is a single line naming the file and the field, e.g.
``params/experiments/mlp_d53.yaml: data.frac_train: 1.5 is not less than 1``.

Two readings are stricter than JSON Schema's own: an ``integer`` is an int, not a whole
float (YAML reads ``9000.0`` as a float, which JSON Schema would accept as an integer and a
job would then choke on), and a ``number`` is finite (YAML's ``.inf`` and ``.nan`` pass
every range check, since NaN compares false with everything).
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from grokscope.budgets import (
    DEFAULT_MAX_JOBS,
    check_cache,
    check_suite_jobs,
    check_sweep_jobs,
    check_training,
    check_training_length,
)
from grokscope.errors import ParamsError
from grokscope.families import group_order
from grokscope.names import check_figure_names, check_key_irreps

# libyaml's parser when PyYAML was built with it (same results, ~10x faster: params are read
# at every Snakemake start); the pure-Python one otherwise.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Checkpoint formats an `import` block may name (grokscope.external) → the model kind their
# files hold. Kept here, not imported from there: params are validated at every Snakemake
# start, and the converters' module loads torch.
IMPORT_FORMATS = {"published_mod113": "transformer"}


def _is_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, float):
        return math.isfinite(instance)
    return _is_integer(checker, instance)


_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"integer": _is_integer, "number": _is_number}
)
Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPES)

# Folders of results/ that are not experiments: no experiment may take their names.
RESERVED = {"assets", "logs", "benchmarks"}


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    """The validator of ``grokscope/schemas/<kind>.schema.yaml``, shipped with the package."""
    text = resources.files("grokscope").joinpath(f"schemas/{kind}.schema.yaml").read_text()
    return Validator(yaml.safe_load(text))


def default_figure_style() -> dict[str, Any]:
    """The figure style made of the schema's defaults (for a run with no params/ beside it)."""
    schema = _validator("figures").schema
    return {key: spec["default"] for key, spec in schema["properties"].items()}


def load_figure_style(path: str | Path) -> dict[str, Any]:
    """``params/figures.yaml`` (or another file of that kind), validated."""
    return validate(read_yaml(path), "figures", path)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is a one-line ParamsError."""
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=_LOADER)
    except FileNotFoundError:
        raise ParamsError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ParamsError(f"{path}: not a readable text file ({err})") from None
    except yaml.YAMLError as err:
        mark, position = getattr(err, "problem_mark", None), getattr(err, "position", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        where = f"character {position + 1}" if position is not None else where
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        problem = " ".join(str(problem).split())
        raise ParamsError(f"{path}: YAML syntax error at {where}: {problem}") from None
    except (ValueError, TypeError, AttributeError, OverflowError, RecursionError) as err:
        # PyYAML's constructors fail this way on some explicitly tagged values (`!!int x`,
        # `!!timestamp x`) and on nesting deeper than Python's recursion limit.
        what = " ".join(str(err).split())[:120]
        raise ParamsError(
            f"{path}: a value YAML cannot build ({type(err).__name__}: {what}); check explicit "
            "tags (!!…) and nesting"
        ) from None


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


def _message(err: jsonschema.ValidationError) -> str:
    """The schema error in words, on one line."""
    value = err.instance
    if "propertyNames" in err.schema_path:
        return "unknown key for this model kind"
    if err.validator == "type" and isinstance(value, float):
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if value.is_integer() and "integer" in err.validator_value:
            return f"{value} is not an integer; write {int(value)}"
    message = " ".join(err.message.split())  # one line, whatever the value holds
    return message if len(message) < 160 else message[:157] + "..."


def validate(data: Any, kind: str, path: str | Path) -> dict[str, Any]:
    """Validate parsed params against the schema ``<kind>.schema.yaml``; return them."""
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: (top level): expected a mapping, got {type(data).__name__}")
    err = jsonschema.exceptions.best_match(_validator(kind).iter_errors(data))
    if err is not None:
        raise ParamsError(f"{path}: {_field(err)}: {_message(err)}")
    return data


def check_experiment(exp: dict[str, Any], path: str | Path) -> None:
    """Checks that span fields (train xor import, sizes that would not fit, empty splits)."""
    if ("train" in exp) == ("import" in exp):
        raise ParamsError(f"{path}: train: give exactly one of `train` or `import`")
    if "import" in exp and exp["model"]["kind"] != IMPORT_FORMATS[exp["import"]["format"]]:
        kind = IMPORT_FORMATS[exp["import"]["format"]]
        raise ParamsError(f"{path}: model.kind: {exp['import']['format']} checkpoints are {kind}s")
    order = group_order(exp["group"]["name"], exp["group"]["n"])
    num_pairs = order * order
    n_train = int(exp["data"]["frac_train"] * num_pairs) if order < 1e12 else 1
    if n_train == 0 or n_train == num_pairs:
        raise ParamsError(
            f"{path}: data.frac_train: leaves an empty split ({n_train} of {num_pairs} pairs)"
        )
    if "train" in exp:
        check_training_length(exp["train"], path)
    check_training(exp, order, path)


def load_experiment(path: str | Path, max_jobs: int = DEFAULT_MAX_JOBS) -> dict[str, Any]:
    """Read, schema-validate and sanity-check one experiment file (sweeps: every member)."""
    return _load_members(path, max_jobs)[0]


def _load_members(
    path: str | Path, max_jobs: int = DEFAULT_MAX_JOBS
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the file's params, its experiments: itself, or its sweep's members), all checked."""
    exp = validate(read_yaml(path), "experiment", path)
    members = expand_sweep(Path(path).stem, exp, path, max_jobs)
    for member in members.values():
        check_experiment(member, path)
    return exp, members


# Member names become directory names and Snakemake wildcard values.
_MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def _member_name(key: str, value: Any) -> str:
    leaf = key.split(".")[-1]
    return f"{leaf}{value}"


def expand_sweep(
    name: str, exp: dict[str, Any], path: str | Path, max_jobs: int = DEFAULT_MAX_JOBS
) -> dict[str, dict[str, Any]]:
    """An experiment with a ``sweep`` block as its members ``{name-seed3: params, …}``.

    ``sweep`` maps a dotted key (``seed``, ``train.lr``, …) to a list of values; members are
    the cartesian product, named ``<name>-<leaf><value>`` per swept key, each validated like
    an experiment of its own. Without ``sweep``: ``{name: exp}``. A sweep whose members
    would make more than ``max_jobs`` jobs is refused before any member is built.
    """
    if "sweep" not in exp:
        if exp.get("batched"):
            raise ParamsError(f"{path}: batched: needs a `sweep` over seeds")
        return {name: exp}
    if exp.get("batched") and (set(exp["sweep"]) != {"seed"} or "train" not in exp):
        raise ParamsError(f"{path}: batched: only a trained sweep over `seed` alone is batched")
    keys = list(exp["sweep"])
    check_sweep_jobs(exp, [len(exp["sweep"][k]) for k in keys], max_jobs, path)
    base = {k: v for k, v in exp.items() if k not in ("sweep", "batched")}
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
        labels = [_member_name(k, v) for k, v in zip(keys, values, strict=True)]
        member_name = "-".join([name, *labels])
        if not all(_MEMBER_NAME.fullmatch(label) for label in labels):
            raise ParamsError(
                f"{path}: sweep: member name {member_name!r} is not a usable directory name; "
                "sweep over numbers or plain words"
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
    max_jobs = suite.get("max_jobs", DEFAULT_MAX_JOBS)
    figures = validate(read_yaml(figures_path), "figures", figures_path)
    check_figure_names(figures, figures_path)
    analysis = validate(read_yaml(analysis_path), "analysis", analysis_path)
    experiments, sweeps, sources, batched = {}, {}, {}, set()
    for path in sorted((params_dir / "experiments").glob("*.yaml")):
        if path.stem in RESERVED:
            raise ParamsError(f"{path}: (file name): results/{path.stem}/ is the pipeline's own")
        exp, members = _load_members(path, max_jobs)
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
    suite_members = {n: sweeps.get(n, [n]) for n in suite["experiments"]}
    check_suite_jobs(suite_members, experiments, batched, max_jobs, suite_path)
    for members in suite_members.values():
        for member in members:
            check_cache(member, experiments[member], analysis["cache"], analysis_path)
    suite_experiments = {m: experiments[m] for ms in suite_members.values() for m in ms}
    check_key_irreps(analysis["key_irreps"], suite_experiments, analysis_path)
    return {
        "suite": suite,
        "figures": figures,
        "analysis": analysis,
        "experiments": experiments,
        "sweeps": sweeps,
        "batched": sorted(batched),
        "sources": sources,
    }
