# Norms of the (un)embeddings per Fourier basis function and irrep; the key irreps (scored by
# embedding norm and neuron variance together), chosen by the rule in params/analysis.yaml
# (key_irreps) and recorded with the reason.
rule key_irreps:
    input:
        checkpoints=rules.train.output.checkpoints,
        activations=rules.cache_activations.output.activations,
    output:
        basis_norms="results/{exp}/analysis/basis_norms.parquet",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        weights="results/{exp}/analysis/weights.parquet",
        metrics="results/{exp}/analysis/key_irreps.json",
    params:
        **step("key_irreps", analysis=["key_irreps"]),
    log:
        "results/logs/key_irreps/{exp}.log",
    benchmark:
        "results/benchmarks/key_irreps/{exp}.tsv"
    shell:
        STEP
