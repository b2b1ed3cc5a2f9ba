# Fraction of centred logit variance explained by the key irreps' characters
# tr ρ(a b c⁻¹), the logits' components along each key output direction, and those
# components over (a, b) for the key irreps and the strongest other ones.
rule logits:
    input:
        activations=rules.cache_activations.output.activations,
        key_irreps=rules.key_irreps.output.metrics,
    output:
        directions="results/{exp}/analysis/logit_directions.parquet",
        components="results/{exp}/analysis/logit_components_ab.parquet",
        metrics="results/{exp}/analysis/logits.json",
    params:
        **step("logits"),
    log:
        "results/logs/logits/{exp}.log",
    benchmark:
        "results/benchmarks/logits/{exp}.tsv"
    shell:
        STEP
