# Shared set-up: load and validate params/, expose them to rules as plain JSON strings.
import json
import os
import re
import sys

from grokscope.params import ParamsError, load_params

# Jobs call `python -m grokscope`; make that the interpreter running Snakemake.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])

try:
    PARAMS = load_params("params")
except ParamsError as err:
    # One line naming file and field, before any job; no traceback.
    print(f"grokscope: invalid params: {err}", file=sys.stderr)
    os._exit(1)

# Suite entries that are sweeps stand for their members (params/experiments/<sweep>.yaml).
SWEEPS = {n: PARAMS["sweeps"][n] for n in PARAMS["suite"]["experiments"] if n in PARAMS["sweeps"]}
EXPERIMENTS = [m for n in PARAMS["suite"]["experiments"] for m in PARAMS["sweeps"].get(n, [n])]
# Members of batched sweeps are trained together by train_batched_<sweep>, not by `train`.
BATCHED = {n: SWEEPS[n] for n in PARAMS["batched"] if n in SWEEPS}
TRAINED = [
    e
    for e in EXPERIMENTS
    if "train" in PARAMS["experiments"][e] and not any(e in m for m in BATCHED.values())
]
IMPORTED = [e for e in EXPERIMENTS if "import" in PARAMS["experiments"][e]]


def one_of(names):
    """Wildcard regex matching exactly these names (and nothing when there are none)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


wildcard_constraints:
    exp=one_of(EXPERIMENTS),
    sweep=one_of(SWEEPS),


def experiment(*keys):
    """Params of one experiment restricted to `keys`, as a JSON string for the rule.

    The param's name, `experiment`, tells `grokscope dvc-yaml` to track these keys of
    params/experiments/<exp>.yaml for the DVC stage; the restriction means changing a
    training value does not rerun data generation.
    """
    return lambda w: json.dumps(
        {k: PARAMS["experiments"][w.exp][k] for k in keys}, sort_keys=True
    )


def analysis(*keys):
    """Sections of params/analysis.yaml as a JSON string (tracked as the `analysis` param)."""
    return json.dumps({k: PARAMS["analysis"][k] for k in keys}, sort_keys=True)


def is_cyclic(exp):
    return PARAMS["experiments"][exp]["group"]["name"] == "cyclic"


def figure_style():
    """All of params/figures.yaml as a JSON string (tracked as the `figures` param)."""
    return json.dumps(PARAMS["figures"], sort_keys=True)


def record_in_dvc():
    """After a successful plain `snakemake` run, record the outputs in dvc.lock.

    Without this, the first `dvc repro` after `snakemake --cores all` would rerun everything
    (DVC has never seen the outputs). Only stages whose outputs all exist are recorded, so a
    run of a few targets records just those. Skipped inside a DVC stage (DVC sets DVC_STAGE
    and holds the repo lock) and outside a DVC repository.
    """
    import subprocess

    import yaml

    if "DVC_STAGE" in os.environ or not os.path.exists(".dvc") or not os.path.exists("dvc.yaml"):
        return
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
        print(f"grokscope: outputs built but not recorded in dvc.lock: {reason[0]}", file=sys.stderr)
