# Every pair (a, b, c = a ∘ b) of the experiment's group, with the train/test split.
rule dataset:
    output:
        pairs="results/{exp}/data/pairs.parquet",
    params:
        **step("dataset", experiment=["seed", "group", "data"]),
    # Its training job's priority: the longest run's data first.
    priority: lambda w: training_priority(PARAMS["experiments"][w.exp])
    log:
        "results/logs/dataset/{exp}.log",
    benchmark:
        "results/benchmarks/dataset/{exp}.tsv"
    shell:
        STEP
