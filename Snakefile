# grokscope: train small networks on finite-group operations and take apart what they learn.
#
#   snakemake --cores all        build every experiment in params/suite.yaml
#   snakemake -n                 show what would run
#
# Every params file is validated before any job runs (workflow/schemas/). dvc.yaml is
# generated from this DAG by `grokscope dvc-yaml`; never edit it by hand.

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/train_batched.smk"
include: "workflow/rules/import.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/key_irreps.smk"
include: "workflow/rules/neurons.smk"
include: "workflow/rules/logits.smk"
include: "workflow/rules/cyclic.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/progress.smk"
include: "workflow/rules/universality.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


def experiment_outputs(exp):
    """Every output of every step for one experiment (all of them, so that a missing sibling
    output of an up-to-date job is rebuilt too)."""
    steps = [rules.dataset, rules.cache_activations, rules.key_irreps, rules.neurons]
    steps += [rules.logits, rules.ablations, rules.progress, rules.figure_training]
    steps += [rules.figure_fourier, rules.figure_neurons, rules.figure_logits]
    steps += [rules.figure_progress]
    # Members of batched sweeps have train's output paths (written by train_batched_<sweep>).
    steps.append(rules.import_checkpoint if exp in IMPORTED else rules.train)
    if is_cyclic(exp):
        steps += [rules.cyclic_views, rules.figure_cyclic]
    return [path for step in steps for path in expand(step.output, exp=exp)]


rule all:
    default_target: True
    input:
        [path for exp in EXPERIMENTS for path in experiment_outputs(exp)],
        expand(rules.universality.output, sweep=list(SWEEPS)),
        expand("results/{sweep}/figures/universality", sweep=list(SWEEPS)),
        rules.report.output,


onsuccess:
    record_in_dvc()
