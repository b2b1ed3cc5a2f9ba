# Fraction of centred logit variance explained by the key irreps' characters
# tr ρ(a b c⁻¹), and the logits' components along each key output direction.
rule logits:
    input:
        activations=rules.cache_activations.output.activations,
        key_irreps=rules.key_irreps.output.metrics,
    output:
        directions="results/{exp}/analysis/logit_directions.parquet",
        metrics="results/{exp}/analysis/logits.json",
    params:
        **step("logits"),
    log:
        "results/logs/logits/{exp}.log",
    benchmark:
        "results/benchmarks/logits/{exp}.tsv"
    shell:
        STEP
