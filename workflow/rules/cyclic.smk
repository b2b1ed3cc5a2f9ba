# Cyclic groups only (seed 004): harmonics of the key frequencies, each neuron's phase and
# amplitude (along a and b) and readout, which phase model the neurons follow, where the
# neurons write next, the attention to a and b at '=', and the residual stream at '='
# reordered by (c, a) with its symmetry about c/2.
rule cyclic_views:
    input:
        checkpoints=rules.train.output.checkpoints,
        activations=rules.cache_activations.output.activations,
        key_irreps=rules.key_irreps.output.metrics,
        clusters=rules.neurons.output.clusters,
    output:
        harmonics="results/{exp}/analysis/harmonics.parquet",
        phases="results/{exp}/analysis/neuron_phases.parquet",
        resid="results/{exp}/analysis/resid_by_c_a.parquet",
        writeout="results/{exp}/analysis/neuron_writeout.parquet",
        metrics="results/{exp}/analysis/cyclic.json",
    params:
        **step("cyclic_views", analysis=["cyclic"]),
    wildcard_constraints:
        exp=one_of(CYCLIC),
    log:
        "results/logs/cyclic_views/{exp}.log",
    benchmark:
        "results/benchmarks/cyclic_views/{exp}.tsv"
    shell:
        STEP
