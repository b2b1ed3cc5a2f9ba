# At every cached checkpoint (params/analysis.yaml: cache.checkpoints): the embedding's share
# of the norm per irrep, the neurons (and clean neurons) of each irrep, the logit similarity
# per irrep and the key irreps' logit fit.
rule over_training:
    input:
        checkpoints=rules.train.output.checkpoints,
        activations=rules.cache_activations.output.activations,
        key_irreps=rules.key_irreps.output.metrics,
    output:
        table="results/{exp}/analysis/over_training.parquet",
        metrics="results/{exp}/analysis/over_training.json",
    params:
        **step("over_training", analysis=["neurons"]),
    log:
        "results/logs/over_training/{exp}.log",
    benchmark:
        "results/benchmarks/over_training/{exp}.tsv"
    shell:
        STEP
