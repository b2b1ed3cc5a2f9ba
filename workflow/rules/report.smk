# results/index.html: one page listing every experiment with its key metrics and every
# figure (PNG thumbnails linking to the interactive HTML), relative links, works offline.


def report_inputs(wildcards=None):
    """Every figure directory and metrics JSON the report shows, for every experiment."""
    paths = []
    for exp in EXPERIMENTS:
        paths += figure_dirs(exp)
        paths.append(f"results/{exp}/train/final.json")
        names = ["key_irreps", "neurons", "logits", "ablations", "phases"]
        names += ["cyclic"] if is_cyclic(exp) else []
        paths += [f"results/{exp}/analysis/{name}.json" for name in names]
    for sweep in SWEEPS:
        paths += [f"results/{sweep}/figures/universality", f"results/{sweep}/universality.json"]
    return paths


def experiment_summaries():
    """Group, model and source (trained/imported) of each experiment, as JSON for the page."""
    summary = {}
    for exp in EXPERIMENTS:
        p = PARAMS["experiments"][exp]
        source = "trained" if "train" in p else "imported"
        summary[exp] = {"group": p["group"], "model": p["model"], "source": source}
    return json.dumps(summary, sort_keys=True)


rule report:
    input:
        report_inputs(),
    output:
        "results/index.html",
    params:
        experiments=experiment_summaries(),
    log:
        "results/logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    shell:
        "python -m grokscope report --inputs {input} --experiments {params.experiments:q}"
        " --out {output} 2> {log}"
