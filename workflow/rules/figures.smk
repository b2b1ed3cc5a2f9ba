# Figures: one rule per figure job and experiment. Each reads analysis tables only (Parquet,
# JSON, CSV; never checkpoints), builds its figures with grokscope.plots and renders them to
# results/<exp>/figures/<job>/: <name>.html (interactive; plotly.min.js beside it, so offline)
# and <name>.png (all PNGs of the job through one headless browser). Style and choices:
# params/figures.yaml. The PNGs are report items of `snakemake --report`.
CYCLIC = [e for e in EXPERIMENTS if is_cyclic(e)]
FIGURE_CMD = (
    "python -m grokscope figure {params.job} --inputs {params.inputs}"
    " --style {params.figures:q} --out-dir {output} 2> {log}"
)


def figure_output(job):
    """The figure directory of `job`, its PNGs marked for `snakemake --report`."""
    return report(
        directory(f"results/{{exp}}/figures/{job}"),
        patterns=["{name}.png"],
        category="{exp}",
        subcategory=job,
        labels={"experiment": "{exp}", "figure": "{name}", "job": job},
    )


def named_inputs(wildcards, input):
    """The job's named inputs as `name=path` arguments for `grokscope figure --inputs`."""
    return " ".join(f"{name}={path}" for name, path in input.items())


def figure_dirs(exp):
    """Every figure directory of one experiment (the cyclic views only for cyclic groups)."""
    jobs = ["training", "fourier", "neurons", "logits", "progress"]
    jobs += ["cyclic"] if is_cyclic(exp) else []
    return [f"results/{exp}/figures/{job}" for job in jobs]


# Loss (log y) and accuracy against epoch.
rule figure_training:
    input:
        metrics="results/{exp}/train/metrics.csv",
    output:
        figure_output("training"),
    params:
        job="training",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_training/{exp}.log",
    benchmark:
        "results/benchmarks/figure_training/{exp}.tsv"
    shell:
        FIGURE_CMD


# The Fourier basis functions (slider); (un)embedding norms per basis function; irrep
# scores (key irreps starred); each embedding dimension in space and frequency (slider).
rule figure_fourier:
    input:
        data="results/{exp}/data/pairs.parquet",
        basis_norms="results/{exp}/analysis/basis_norms.parquet",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        weights="results/{exp}/analysis/weights.parquet",
        key_irreps="results/{exp}/analysis/key_irreps.json",
    output:
        figure_output("fourier"),
    params:
        job="fourier",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_fourier/{exp}.log",
    benchmark:
        "results/benchmarks/figure_fourier/{exp}.tsv"
    shell:
        FIGURE_CMD


# Selected neurons and logits over (a, b) and in the 2-D basis; mean 2-D Fourier power of
# neurons and logits; neuron irrep vs fraction explained; cluster sizes.
rule figure_neurons:
    input:
        activations="results/{exp}/activations",
        clusters="results/{exp}/analysis/neuron_clusters.parquet",
        sizes="results/{exp}/analysis/cluster_sizes.parquet",
        fourier_mean="results/{exp}/analysis/fourier_mean.parquet",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        metrics="results/{exp}/analysis/neurons.json",
    output:
        figure_output("neurons"),
    params:
        job="neurons",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_neurons/{exp}.log",
    benchmark:
        "results/benchmarks/figure_neurons/{exp}.tsv"
    shell:
        FIGURE_CMD


# Readout norms per cluster; logit components along the key output directions (slider);
# the characters' fit; ablation losses (summary and per key irrep).
rule figure_logits:
    input:
        readout="results/{exp}/analysis/readout_by_cluster.parquet",
        directions="results/{exp}/analysis/logit_directions.parquet",
        fit="results/{exp}/analysis/logits.json",
        key_irreps="results/{exp}/analysis/key_irreps.json",
        irrep_norms="results/{exp}/analysis/irrep_norms.parquet",
        ablations="results/{exp}/analysis/ablations.parquet",
    output:
        figure_output("logits"),
    params:
        job="logits",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_logits/{exp}.log",
    benchmark:
        "results/benchmarks/figure_logits/{exp}.tsv"
    shell:
        FIGURE_CMD


# Cyclic groups only (seed 004): ReLU harmonics demo; frequency ablations; neuron phases;
# one frequency's pre-activations by phase and their running sums with/without ReLU (actual
# and idealised); residual stream (or hidden neurons) by (c, a).
rule figure_cyclic:
    input:
        activations="results/{exp}/activations",
        phases="results/{exp}/analysis/neuron_phases.parquet",
        harmonics="results/{exp}/analysis/harmonics.parquet",
        resid="results/{exp}/analysis/resid_by_c_a.parquet",
        ablations="results/{exp}/analysis/ablations.parquet",
        metrics="results/{exp}/analysis/cyclic.json",
    output:
        figure_output("cyclic"),
    params:
        job="cyclic",
        inputs=named_inputs,
        figures=figure_style(),
    wildcard_constraints:
        exp=one_of(CYCLIC),
    log:
        "results/logs/figure_cyclic/{exp}.log",
    benchmark:
        "results/benchmarks/figure_cyclic/{exp}.tsv"
    shell:
        FIGURE_CMD


# Every progress measure over training with the phases shaded.
rule figure_progress:
    input:
        progress="results/{exp}/analysis/progress.parquet",
        phases="results/{exp}/analysis/phases.json",
    output:
        figure_output("progress"),
    params:
        job="progress",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_progress/{exp}.log",
    benchmark:
        "results/benchmarks/figure_progress/{exp}.tsv"
    shell:
        FIGURE_CMD


# Sweeps only: each member's key irreps coloured by when they were learned (first starred),
# and how many members learned each irrep.
rule figure_universality:
    input:
        table="results/{sweep}/universality.parquet",
        summary="results/{sweep}/universality.json",
    output:
        report(
            directory("results/{sweep}/figures/universality"),
            patterns=["{name}.png"],
            category="{sweep}",
            subcategory="universality",
            labels={"experiment": "{sweep}", "figure": "{name}", "job": "universality"},
        ),
    params:
        job="universality",
        inputs=named_inputs,
        figures=figure_style(),
    log:
        "results/logs/figure_universality/{sweep}.log",
    benchmark:
        "results/benchmarks/figure_universality/{sweep}.tsv"
    shell:
        FIGURE_CMD
