# grokscope: train small networks on finite-group operations and take apart what they learn.
#
#   snakemake --cores all        build every experiment in params/suite.yaml
#   snakemake -n                 show what would run
#
# Every params file is validated before any job runs (grokscope/schemas/). One rule per
# pipeline step (grokscope.pipeline), one file per rule in workflow/rules/. The DVC pipeline
# (dvc.yaml, pipelines/*/dvc.yaml) is generated from this DAG by `grokscope dvc-yaml`; never
# edit it by hand.

import os
import sys

# Run this copy's own package (workflow/grokscope), here and in every job, whatever else is
# installed or on PYTHONPATH: a queued `dvc exp run` runs in a temporary copy of the
# repository, which must run, and record in dvc.lock, its own code.
PACKAGE_ROOT = os.path.join(os.path.abspath(workflow.basedir), "workflow")
sys.path.insert(0, PACKAGE_ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/train_batched.smk"
include: "workflow/rules/import.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/key_irreps.smk"
include: "workflow/rules/neurons.smk"
include: "workflow/rules/logits.smk"
include: "workflow/rules/over_training.smk"
include: "workflow/rules/cyclic.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/progress.smk"
include: "workflow/rules/universality.smk"
include: "workflow/rules/headline.smk"
include: "workflow/rules/sweep_headline.smk"
include: "workflow/rules/assets.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


def experiment_outputs(exp):
    """Every output of every step of one experiment (all of them, so that a missing sibling
    output of an up-to-date job is rebuilt too)."""
    steps = pipeline.experiment_steps(exp in IMPORTED, exp in CYCLIC, exp in COMPARED)
    return [path for name in steps for path in expand(getattr(rules, name).output, exp=exp)]


rule all:
    default_target: True
    input:
        [path for exp in EXPERIMENTS for path in experiment_outputs(exp)],
        [path for name in pipeline.SWEEP_STEPS for path in expand(getattr(rules, name).output, sweep=list(SWEEPS))],
        [getattr(rules, name).output for name in pipeline.SUITE_STEPS],


onsuccess:
    record_in_dvc()


onerror:
    report_failures()
