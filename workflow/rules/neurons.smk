# Neuron clustering by irrep (fraction of centred variance per irrep block, clean neurons),
# the mean 2-D Fourier norms of the hidden neurons and of the logits, and each cluster's
# readout (neurons → logits) per output basis function.
rule neurons:
    input:
        checkpoints=rules.train.output.checkpoints,
        activations=rules.cache_activations.output.activations,
        key_irreps=rules.key_irreps.output.metrics,
    output:
        clusters="results/{exp}/analysis/neuron_clusters.parquet",
        sizes="results/{exp}/analysis/cluster_sizes.parquet",
        fourier_mean="results/{exp}/analysis/fourier_mean.parquet",
        readout="results/{exp}/analysis/readout_by_cluster.parquet",
        metrics="results/{exp}/analysis/neurons.json",
    params:
        **step("neurons", analysis=["neurons"]),
    log:
        "results/logs/neurons/{exp}.log",
    benchmark:
        "results/benchmarks/neurons/{exp}.tsv"
    shell:
        STEP
