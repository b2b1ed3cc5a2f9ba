# Neuron clustering by irrep (fraction of centred variance per irrep block, clean neurons)
# the mean 2-D Fourier norms of the hidden neurons and of the logits, and each cluster's
# readout (neurons → logits) per output basis function.
rule neurons:
    input:
        checkpoints="results/{exp}/train/checkpoints",
        activations="results/{exp}/activations",
        key_irreps="results/{exp}/analysis/key_irreps.json",
    output:
        clusters="results/{exp}/analysis/neuron_clusters.parquet",
        sizes="results/{exp}/analysis/cluster_sizes.parquet",
        fourier_mean="results/{exp}/analysis/fourier_mean.parquet",
        readout="results/{exp}/analysis/readout_by_cluster.parquet",
        metrics="results/{exp}/analysis/neurons.json",
    params:
        analysis=analysis("neurons"),
    log:
        "results/logs/neurons/{exp}.log",
    benchmark:
        "results/benchmarks/neurons/{exp}.tsv"
    shell:
        "python -m grokscope analyse neurons --inputs checkpoints={input.checkpoints}"
        " activations={input.activations}"
        " key_irreps={input.key_irreps} --settings {params.analysis:q}"
        " --outputs clusters={output.clusters} sizes={output.sizes}"
        " fourier_mean={output.fourier_mean} readout={output.readout}"
        " metrics={output.metrics} 2> {log}"
