# Progress measures at every saved checkpoint (losses, accuracies, restricted and excluded
# loss, sum of squared weights, Gini of the embedding's irrep norms, clean neurons) and the
# phase boundaries (rule in grokscope.progress, thresholds in params/analysis.yaml: phases).
rule progress:
    input:
        checkpoints="results/{exp}/train/checkpoints",
        data="results/{exp}/data/pairs.parquet",
        key_irreps="results/{exp}/analysis/key_irreps.json",
    output:
        table="results/{exp}/analysis/progress.parquet",
        plot="results/{exp}/analysis/progress.csv",
        metrics="results/{exp}/analysis/phases.json",
    params:
        analysis=analysis("neurons", "phases"),
    log:
        "results/logs/progress/{exp}.log",
    benchmark:
        "results/benchmarks/progress/{exp}.tsv"
    shell:
        "python -m grokscope analyse progress --inputs checkpoints={input.checkpoints}"
        " data={input.data} key_irreps={input.key_irreps} --settings {params.analysis:q}"
        " --outputs table={output.table} plot={output.plot} metrics={output.metrics}"
        " 2> {log}"
