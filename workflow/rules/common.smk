# Shared set-up: load and validate params/, and the one contract between rules and the CLI.
import json
import os
import re
import shlex
import sys

from grokscope import pipeline
from grokscope.budgets import training_priority
from grokscope.closure import code_hash
from grokscope.errors import ParamsError
from grokscope.params import load_params
from grokscope.settings import resolve, spec_of
from grokscope.sync import resync_if_needed

# Jobs call `python -m grokscope`; make that the interpreter running Snakemake.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
# The cores Snakemake was given (--cores): a training job may grow into the idle ones once
# the short jobs are done (grokscope.process.IdleCores). Unset for a dry run or the DAG API.
if workflow.resource_settings.cores:
    os.environ["GROKSCOPE_CORES"] = str(workflow.resource_settings.cores)

try:
    PARAMS = load_params("params")
except ParamsError as err:
    # One line naming file and field, before any job; no traceback.
    print(f"grokscope: invalid params: {err}", file=sys.stderr)
    os._exit(1)

# After a DVC operation changed dvc.lock (dvc repro, a run-cache restore, dvc checkout, pull,
# exp apply), bring Snakemake's records in step with it before building the DAG
# (grokscope.sync).
resync_if_needed()

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
CYCLIC = [e for e in EXPERIMENTS if PARAMS["experiments"][e]["group"]["name"] == "cyclic"]
# Experiments shown beside a reference run that the suite also builds (`compare_with`).
COMPARED = {
    e: PARAMS["experiments"][e]["compare_with"]
    for e in EXPERIMENTS
    if PARAMS["experiments"][e].get("compare_with") in EXPERIMENTS
}


def one_of(names):
    """Wildcard regex matching exactly these names (and nothing when there are none)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


wildcard_constraints:
    exp=one_of(EXPERIMENTS),
    sweep=one_of(SWEEPS),


# Every rule runs one pipeline step with this command (grokscope.steps.<step>). Its params
# come from step(): the paths from the rule's own named input and output (each path is
# written once, in the rule), the settings as JSON.
STEP = (
    "python -m grokscope {params.step} {params.io}"
    " --settings {params.settings:q} --threads {threads} 2> {log}"
)


def io_args(wildcards, input, output):
    """`--inputs name=path … --outputs name=path …` from the rule's named input and output."""
    args = []
    for flag, files in (("--inputs", input), ("--outputs", output)):
        pairs = [f"{name}={path}" for name, path in files.items()]
        args += [flag, *pairs] if pairs else []
    return shlex.join(args)


def step(name, experiment=(), analysis=(), figures=False, summaries=(), seeds=(), exp=None,
         **derived):  # fmt: skip
    """The params of a rule that runs pipeline step `name`.

    - `step`: the step (module grokscope.steps.<name>);
    - `code`: a hash of the package code the step runs (grokscope.closure), so Snakemake's
      params trigger reruns the job when that code changes, as DVC does;
    - `io`: the CLI's --inputs/--outputs, from the rule's named input and output;
    - `spec`: where the step's settings come from (grokscope.settings): `experiment` (these
      keys of params/experiments/<exp>.yaml; `exp` defaults to the wildcard), `analysis`
      (these sections of params/analysis.yaml), `figures` (all of params/figures.yaml),
      `summaries` (these experiments' group, model and source), `seeds` (these experiments'
      seeds, as `members`); any other keyword is a name from the DAG, passed as is. Each of
      the last three may be a function of the wildcards.
      A DVC stage's command passes this spec (`--settings-from`);
    - `settings`: that spec resolved (JSON): the values, so a changed value reruns the job.
    `grokscope dvc-yaml` reads exactly these (grokscope.dvcgen.CONTRACT).
    """

    def spec(wildcards):
        now = lambda v: v(wildcards) if callable(v) else v
        values = {key: now(v) for key, v in derived.items()}
        source = exp or wildcards.get("exp")
        made = spec_of(source, experiment, analysis, figures, now(summaries), now(seeds), values)
        return json.dumps(made, sort_keys=True)

    def settings(wildcards):
        return json.dumps(resolve(json.loads(spec(wildcards)), PARAMS), sort_keys=True)

    return {"step": name, "code": code_hash(name), "io": io_args, "spec": spec,
            "settings": settings}  # fmt: skip


def figure_output(job, wildcard="exp"):
    """The figure directory of figure job `job`, its PNGs marked for `snakemake --report`."""
    return report(
        directory(f"results/{{{wildcard}}}/figures/{job}"),
        patterns=["{name}.png"],
        category=f"{{{wildcard}}}",
        subcategory=job,
        labels={"experiment": f"{{{wildcard}}}", "figure": "{name}", "job": job},
    )


def record_in_dvc():
    """After a successful plain `snakemake` run, record in dvc.lock the stages of the jobs
    this run executed (grokscope.sync.record). Skipped inside a DVC stage (DVC sets DVC_STAGE,
    holds the repo lock and records the stage itself), for --touch runs, and outside a DVC
    repository."""
    if "DVC_STAGE" in os.environ or workflow.touch or not os.path.exists(".dvc"):
        return
    from grokscope.sync import record

    dag = workflow.dag
    executed = {str(f) for job in dag.finished_jobs for f in job.output}
    current = {str(f) for job in dag.jobs if not dag.needrun(job) or dag.finished(job)
               for f in job.output}  # fmt: skip
    record(executed, current)


def report_failures():
    """After a failed run: one line per failed job on the terminal, with the reason its step
    wrote last in its log, the params file and the log (grokscope.failures)."""
    from grokscope.failures import failure_line

    failed = getattr(getattr(workflow, "scheduler", None), "failed", None)
    if failed is None:  # a Snakemake that keeps no such record: point at the logs
        print("grokscope: a job failed; its log in results/logs/ ends with why", file=sys.stderr)
        return
    for job in sorted(failed, key=str):
        wildcards = dict(job.wildcards.items())
        name = wildcards.get("exp") or wildcards.get("sweep") or getattr(job.params, "source", None)
        stem = PARAMS["sources"].get(name, name)
        source = f"params/experiments/{stem}.yaml" if stem else None
        print(failure_line(job.rule.name, wildcards, list(job.log), source), file=sys.stderr)
