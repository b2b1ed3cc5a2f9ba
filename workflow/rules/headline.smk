# The run's headline numbers (final losses and accuracies, memorised/grokked epochs, key
# irreps, clean fraction, logit FVE, restricted/excluded loss, phase boundaries) in one small
# file: the only file of an experiment that DVC treats as metrics (dvc metrics show,
# dvc exp show); the detailed JSON and Parquet tables it summarises are plain outputs.
rule headline:
    input:
        final=rules.train.output.metrics,
        key_irreps=rules.key_irreps.output.metrics,
        neurons=rules.neurons.output.metrics,
        logits=rules.logits.output.metrics,
        ablations=rules.ablations.output.metrics,
        phases=rules.progress.output.metrics,
    output:
        headline="results/{exp}/headline.json",
    params:
        **step("headline"),
    log:
        "results/logs/headline/{exp}.log",
    benchmark:
        "results/benchmarks/headline/{exp}.tsv"
    shell:
        STEP
