# Experiments with an `import` block: a checkpoint trained elsewhere (tracked by DVC as a
# dependency) becomes the same outputs `train` writes, so every later step runs unchanged.
rule import_checkpoint:
    input:
        checkpoint=lambda w: PARAMS["experiments"][w.exp]["import"]["path"],
        data="results/{exp}/data/pairs.parquet",
    output:
        checkpoints=directory("results/{exp}/train/checkpoints"),
        plot="results/{exp}/train/metrics.csv",
        metrics="results/{exp}/train/final.json",
    params:
        experiment=experiment("seed", "group", "model", "import"),
    wildcard_constraints:
        exp=one_of(IMPORTED),
    log:
        "results/logs/import_checkpoint/{exp}.log",
    benchmark:
        "results/benchmarks/import_checkpoint/{exp}.tsv"
    shell:
        "python -m grokscope import --experiment {params.experiment:q}"
        " --inputs checkpoint={input.checkpoint} data={input.data}"
        " --outputs checkpoints={output.checkpoints} plot={output.plot}"
        " metrics={output.metrics} 2> {log}"
