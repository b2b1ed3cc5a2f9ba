# Sweeps only: the sweep's headline numbers (members, how many grokked and when, the key
# irreps learned and how often, which first): the one file of a sweep that DVC treats as
# metrics; its members' own headlines are plain outputs of their shared stage.
def sweep_headline_inputs(w):
    return {
        "universality": rules.universality.output.metrics.format(sweep=w.sweep),
        **{f"headline:{m}": f"results/{m}/headline.json" for m in SWEEPS[w.sweep]},
    }


rule sweep_headline:
    input:
        unpack(sweep_headline_inputs),
    output:
        headline="results/{sweep}/headline.json",
    params:
        **step("sweep_headline"),
    log:
        "results/logs/sweep_headline/{sweep}.log",
    benchmark:
        "results/benchmarks/sweep_headline/{sweep}.tsv"
    shell:
        STEP
