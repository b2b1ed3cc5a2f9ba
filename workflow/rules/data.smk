# Every pair (a, b, c = a ∘ b) of the experiment's group, with the train/test split.
rule dataset:
    output:
        "results/{exp}/data/pairs.parquet",
    params:
        experiment=experiment("seed", "group", "data"),
    log:
        "results/logs/dataset/{exp}.log",
    benchmark:
        "results/benchmarks/dataset/{exp}.tsv"
    shell:
        "python -m grokscope dataset --experiment {params.experiment:q} --out {output} 2> {log}"
