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
include: "workflow/rules/import.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/key_irreps.smk"
include: "workflow/rules/neurons.smk"
include: "workflow/rules/logits.smk"
include: "workflow/rules/cyclic.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/progress.smk"
include: "workflow/rules/figures.smk"


def experiment_outputs(exp):
    """Everything `rule all` builds for one experiment."""
    outputs = [
        f"results/{exp}/train/final.json",
        f"results/{exp}/figures/training",
        f"results/{exp}/analysis/neurons.json",
        f"results/{exp}/analysis/logits.json",
        f"results/{exp}/analysis/ablations.json",
        f"results/{exp}/analysis/phases.json",
    ]
    if is_cyclic(exp):
        outputs.append(f"results/{exp}/analysis/cyclic.json")
    return outputs


rule all:
    default_target: True
    input:
        [path for exp in EXPERIMENTS for path in experiment_outputs(exp)],


onsuccess:
    record_in_dvc()
