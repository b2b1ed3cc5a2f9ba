# Cyclic groups only (seed 004): harmonics of the key frequencies, each neuron's phase and
# amplitude, and the residual stream at '=' reordered by (c, a) with its symmetry about c/2.
rule cyclic_views:
    input:
        checkpoints="results/{exp}/train/checkpoints",
        activations="results/{exp}/activations",
        key_irreps="results/{exp}/analysis/key_irreps.json",
    output:
        harmonics="results/{exp}/analysis/harmonics.parquet",
        phases="results/{exp}/analysis/neuron_phases.parquet",
        resid="results/{exp}/analysis/resid_by_c_a.parquet",
        metrics="results/{exp}/analysis/cyclic.json",
    params:
        analysis=analysis("cyclic"),
    log:
        "results/logs/cyclic_views/{exp}.log",
    benchmark:
        "results/benchmarks/cyclic_views/{exp}.tsv"
    shell:
        "python -m grokscope analyse cyclic --inputs checkpoints={input.checkpoints}"
        " activations={input.activations}"
        " key_irreps={input.key_irreps} --settings {params.analysis:q}"
        " --outputs harmonics={output.harmonics} phases={output.phases}"
        " resid={output.resid} metrics={output.metrics} 2> {log}"
