# Norms of the (un)embeddings per Fourier basis function and irrep; the key irreps, by the
# rule in params/analysis.yaml (key_irreps; default: ranked by logit similarity and confirmed
# by ablation), the reference definitions beside it, and the ablation check with its flags.
rule key_irreps:
    input:
        checkpoints=rules.train.output.checkpoints,
        data=rules.dataset.output.pairs,
    output:
        basis_norms="results/{exp}/analysis/basis_norms.parquet",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        weights="results/{exp}/analysis/weights.parquet",
        search="results/{exp}/analysis/key_irrep_search.parquet",
        metrics="results/{exp}/analysis/key_irreps.json",
    params:
        **step("key_irreps", analysis=["key_irreps", "neurons"]),
    log:
        "results/logs/key_irreps/{exp}.log",
    benchmark:
        "results/benchmarks/key_irreps/{exp}.tsv"
    shell:
        STEP
