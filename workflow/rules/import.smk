# Experiments with an `import` block: a checkpoint trained elsewhere (tracked by DVC as a
# dependency) becomes the same outputs `train` writes, so every later step runs unchanged.
rule import_checkpoint:
    input:
        checkpoint=lambda w: PARAMS["experiments"][w.exp]["import"]["path"],
        data=rules.dataset.output.pairs,
    output:
        checkpoints=directory("results/{exp}/train/checkpoints"),
        plot="results/{exp}/train/metrics.csv",
        metrics="results/{exp}/train/final.json",
    params:
        **step("import_checkpoint", experiment=["seed", "group", "model", "import"]),
    wildcard_constraints:
        exp=one_of(IMPORTED),
    log:
        "results/logs/import_checkpoint/{exp}.log",
    benchmark:
        "results/benchmarks/import_checkpoint/{exp}.tsv"
    shell:
        STEP
