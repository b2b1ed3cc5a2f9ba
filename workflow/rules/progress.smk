# Progress measures at every saved checkpoint (losses, accuracies, restricted and excluded
# loss, sum of squared weights, Gini of the embedding's irrep norms, clean neurons) and the
# phase boundaries (rule in grokscope.progress, thresholds in params/analysis.yaml: phases).
rule progress:
    input:
        checkpoints=rules.train.output.checkpoints,
        curves=rules.train.output.plot,
        data=rules.dataset.output.pairs,
        key_irreps=rules.key_irreps.output.metrics,
    output:
        table="results/{exp}/analysis/progress.parquet",
        plot="results/{exp}/analysis/progress.csv",
        metrics="results/{exp}/analysis/phases.json",
    params:
        **step("progress", analysis=["neurons", "phases"]),
    log:
        "results/logs/progress/{exp}.log",
    benchmark:
        "results/benchmarks/progress/{exp}.tsv"
    shell:
        STEP
