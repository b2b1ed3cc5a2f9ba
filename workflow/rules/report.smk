# results/index.html: one page listing every experiment with its key metrics and every
# figure (PNG thumbnails linking to the interactive HTML), relative links, works offline.


def report_inputs(wildcards=None):
    """Every experiment's (and sweep's) metrics JSONs and figure directories, named
    `metrics:<experiment>:<name>` and `figures:<experiment>:<job>`."""
    inputs = {}
    for exp in EXPERIMENTS:
        for name in pipeline.experiment_steps(exp in IMPORTED, exp in CYCLIC, exp in COMPARED):
            outputs = getattr(rules, name).output
            if name.startswith("figure_"):
                inputs[f"figures:{exp}:{name.removeprefix('figure_')}"] = outputs.figures.format(exp=exp)
            elif "metrics" in outputs.keys():
                path = outputs.metrics.format(exp=exp)
                inputs[f"metrics:{exp}:{os.path.basename(path).removesuffix('.json')}"] = path
    for sweep in SWEEPS:
        inputs[f"metrics:{sweep}:universality"] = rules.universality.output.metrics.format(sweep=sweep)
        inputs[f"figures:{sweep}:universality"] = rules.figure_universality.output.figures.format(sweep=sweep)
    return inputs


rule report:
    input:
        unpack(report_inputs),
    output:
        page="results/index.html",
    params:
        **step("report", summaries=EXPERIMENTS),
    log:
        "results/logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    shell:
        STEP
