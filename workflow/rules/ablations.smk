# Final checkpoint: restricted / excluded losses (neurons and logits, all key irreps and each
# alone), seed 000's per-cluster "own block only" validation, and for cyclic groups seed 004's
# ablations (without sum/difference frequencies; key frequencies only).
rule ablations:
    input:
        checkpoints="results/{exp}/train/checkpoints",
        data="results/{exp}/data/pairs.parquet",
        key_irreps="results/{exp}/analysis/key_irreps.json",
        clusters="results/{exp}/analysis/neuron_clusters.parquet",
    output:
        table="results/{exp}/analysis/ablations.parquet",
        metrics="results/{exp}/analysis/ablations.json",
    log:
        "results/logs/ablations/{exp}.log",
    benchmark:
        "results/benchmarks/ablations/{exp}.tsv"
    shell:
        "python -m grokscope analyse ablations --inputs checkpoints={input.checkpoints}"
        " data={input.data} key_irreps={input.key_irreps} clusters={input.clusters}"
        " --outputs table={output.table} metrics={output.metrics} 2> {log}"
