# Every pair through the chosen checkpoints; each hooked activation to Parquet
# (results/<exp>/activations/<hook>/epoch_*.parquet, schema in grokscope.activations).
rule cache_activations:
    input:
        checkpoints="results/{exp}/train/checkpoints",
    output:
        activations=directory("results/{exp}/activations"),
    params:
        analysis=analysis("cache"),
    resources:
        # GPUs (Snakemake's standard `gpu` resource): none locally; the slurm profile asks
        # for one (set-resources).
        gpu=0,
    log:
        "results/logs/cache_activations/{exp}.log",
    benchmark:
        "results/benchmarks/cache_activations/{exp}.tsv"
    shell:
        "python -m grokscope analyse cache --inputs checkpoints={input.checkpoints}"
        " --settings {params.analysis:q} --outputs activations={output.activations} 2> {log}"
