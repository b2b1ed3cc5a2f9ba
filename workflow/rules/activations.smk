# Every pair through the chosen checkpoints; each hooked activation to Parquet
# (results/<exp>/activations/<hook>/epoch_*.parquet, layout in grokscope.activations).
rule cache_activations:
    input:
        checkpoints=rules.train.output.checkpoints,
    output:
        activations=directory("results/{exp}/activations"),
    params:
        **step("cache_activations", analysis=["cache"]),
    resources:
        # GPUs (Snakemake's standard `gpu` resource): none locally; the slurm profile asks
        # for one (set-resources).
        gpu=0,
    log:
        "results/logs/cache_activations/{exp}.log",
    benchmark:
        "results/benchmarks/cache_activations/{exp}.tsv"
    shell:
        STEP
