# Final checkpoint: restricted / excluded losses (neurons and logits, all key irreps and each
# alone), seed 000's per-cluster "own block only" validation, and for cyclic groups seed 004's
# ablations (without sum/difference frequencies; key frequencies only), exactly as the notebook
# (FFT along b) and generalised (both inputs); the key set's check and flags.
rule ablations:
    input:
        checkpoints=rules.train.output.checkpoints,
        data=rules.dataset.output.pairs,
        key_irreps=rules.key_irreps.output.metrics,
        clusters=rules.neurons.output.clusters,
    output:
        table="results/{exp}/analysis/ablations.parquet",
        metrics="results/{exp}/analysis/ablations.json",
    params:
        **step("ablations", analysis=["key_irreps"]),
    log:
        "results/logs/ablations/{exp}.log",
    benchmark:
        "results/benchmarks/ablations/{exp}.tsv"
    shell:
        STEP
