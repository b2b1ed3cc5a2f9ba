# Norms of the (un)embeddings per Fourier basis function and irrep; the key irreps (scored by
# embedding norm and neuron variance together), chosen by the rule in params/analysis.yaml
# (key_irreps) and recorded with the reason.
rule key_irreps:
    input:
        checkpoints="results/{exp}/train/checkpoints",
        activations="results/{exp}/activations",
    output:
        basis_norms="results/{exp}/analysis/basis_norms.parquet",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        weights="results/{exp}/analysis/weights.parquet",
        metrics="results/{exp}/analysis/key_irreps.json",
    params:
        analysis=analysis("key_irreps"),
    log:
        "results/logs/key_irreps/{exp}.log",
    benchmark:
        "results/benchmarks/key_irreps/{exp}.tsv"
    shell:
        "python -m grokscope analyse key-irreps --inputs checkpoints={input.checkpoints}"
        " activations={input.activations}"
        " --settings {params.analysis:q} --outputs basis_norms={output.basis_norms}"
        " irrep_norms={output.irrep_norms} weights={output.weights}"
        " metrics={output.metrics} 2> {log}"
