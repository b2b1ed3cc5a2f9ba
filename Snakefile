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
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        expand("results/{exp}/train/final.json", exp=EXPERIMENTS),
        expand("results/{exp}/figures/training", exp=EXPERIMENTS),


onsuccess:
    record_in_dvc()
