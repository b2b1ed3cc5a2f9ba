# Fraction of centred logit variance explained by the key irreps' characters
# tr ρ(a b c⁻¹), and the logits' components along each key output direction.
rule logits:
    input:
        activations="results/{exp}/activations",
        key_irreps="results/{exp}/analysis/key_irreps.json",
    output:
        directions="results/{exp}/analysis/logit_directions.parquet",
        metrics="results/{exp}/analysis/logits.json",
    log:
        "results/logs/logits/{exp}.log",
    benchmark:
        "results/benchmarks/logits/{exp}.tsv"
    shell:
        "python -m grokscope analyse logits --inputs activations={input.activations}"
        " key_irreps={input.key_irreps} --outputs directions={output.directions}"
        " metrics={output.metrics} 2> {log}"
