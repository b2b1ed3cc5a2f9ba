# Experiments with `compare_with` (and that experiment in the suite): this run beside the
# reference run, as a table (analysis/comparison.json) and figures (figures/reference).
RUN_FILES = {
    "final": "results/{exp}/train/final.json",
    "key_irreps": "results/{exp}/analysis/key_irreps.json",
    "neurons": "results/{exp}/analysis/neurons.json",
    "logits": "results/{exp}/analysis/logits.json",
    "ablations": "results/{exp}/analysis/ablations.json",
    "phases": "results/{exp}/analysis/phases.json",
}


def compared_files(w):
    """Both runs' metrics, named `ours:<name>` and `reference:<name>`."""
    runs = {"ours": w.exp, "reference": COMPARED[w.exp]}
    return {f"{run}:{n}": p.format(exp=e) for run, e in runs.items() for n, p in RUN_FILES.items()}


rule compare:
    input:
        unpack(compared_files),
    output:
        metrics="results/{exp}/analysis/comparison.json",
    params:
        **step("compare", reference=lambda w: COMPARED[w.exp]),
    wildcard_constraints:
        exp=one_of(COMPARED),
    log:
        "results/logs/compare/{exp}.log",
    benchmark:
        "results/benchmarks/compare/{exp}.tsv"
    shell:
        STEP


rule figure_reference:
    input:
        curves=rules.train.output.plot,
        phases=rules.progress.output.metrics,
        reference_curves=lambda w: f"results/{COMPARED[w.exp]}/train/metrics.csv",
        reference_phases=lambda w: f"results/{COMPARED[w.exp]}/analysis/phases.json",
        comparison=rules.compare.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("reference"),
    params:
        **step("figure_reference", figures=True),
    wildcard_constraints:
        exp=one_of(COMPARED),
    log:
        "results/logs/figure_reference/{exp}.log",
    benchmark:
        "results/benchmarks/figure_reference/{exp}.tsv"
    shell:
        STEP
