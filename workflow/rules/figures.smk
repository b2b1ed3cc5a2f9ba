# Figures: one rule per figure job (grokscope.pipeline.FIGURE_JOBS) and experiment. Each
# reads analysis tables only (Parquet, JSON, CSV; never checkpoints), builds its figures and
# renders them to results/<exp>/figures/<job>/: <name>.html (interactive, offline: it loads
# the shared results/assets/plotly.min.js by a relative path) and <name>.png (all PNGs of
# the job through one headless browser). Style and choices: params/figures.yaml. The PNGs
# are report items of `snakemake --report`.


# Loss (log y) and accuracy against epoch.
rule figure_training:
    input:
        curves=rules.train.output.plot,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("training"),
    params:
        **step("figure_training", figures=True),
    log:
        "results/logs/figure_training/{exp}.log",
    benchmark:
        "results/benchmarks/figure_training/{exp}.tsv"
    shell:
        STEP


# Every progress measure over training with the phases shaded.
rule figure_progress:
    input:
        progress=rules.progress.output.table,
        phases=rules.progress.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("progress"),
    params:
        **step("figure_progress", figures=True),
    log:
        "results/logs/figure_progress/{exp}.log",
    benchmark:
        "results/benchmarks/figure_progress/{exp}.tsv"
    shell:
        STEP


# The Fourier basis functions (slider); (un)embedding norms per basis function; irrep
# scores (key irreps starred); each embedding dimension in space and frequency (slider).
rule figure_fourier:
    input:
        data=rules.dataset.output.pairs,
        basis_norms=rules.key_irreps.output.basis_norms,
        irrep_norms=rules.key_irreps.output.irrep_norms,
        weights=rules.key_irreps.output.weights,
        key_irreps=rules.key_irreps.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("fourier"),
    params:
        **step("figure_fourier", figures=True),
    log:
        "results/logs/figure_fourier/{exp}.log",
    benchmark:
        "results/benchmarks/figure_fourier/{exp}.tsv"
    shell:
        STEP


# Selected neurons and logits over (a, b) and in the 2-D basis; mean 2-D Fourier power of
# neurons and logits; neuron irrep vs fraction explained; cluster sizes.
rule figure_neurons:
    input:
        activations=rules.cache_activations.output.activations,
        clusters=rules.neurons.output.clusters,
        sizes=rules.neurons.output.sizes,
        fourier_mean=rules.neurons.output.fourier_mean,
        irrep_norms=rules.key_irreps.output.irrep_norms,
        metrics=rules.neurons.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("neurons"),
    params:
        **step("figure_neurons", figures=True),
    log:
        "results/logs/figure_neurons/{exp}.log",
    benchmark:
        "results/benchmarks/figure_neurons/{exp}.tsv"
    shell:
        STEP


# Readout norms per cluster; logit components along the key output directions (slider; 2-D
# basis and over (a, b) with the strongest other irreps); the characters' fit; key irreps by
# rule and the top-m ablation search; ablation losses (summary with the check, per irrep).
rule figure_logits:
    input:
        readout=rules.neurons.output.readout,
        directions=rules.logits.output.directions,
        components=rules.logits.output.components,
        fit=rules.logits.output.metrics,
        key_irreps=rules.key_irreps.output.metrics,
        search=rules.key_irreps.output.search,
        irrep_norms=rules.key_irreps.output.irrep_norms,
        ablations=rules.ablations.output.table,
        ablation_metrics=rules.ablations.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("logits"),
    params:
        **step("figure_logits", figures=True),
    log:
        "results/logs/figure_logits/{exp}.log",
    benchmark:
        "results/benchmarks/figure_logits/{exp}.tsv"
    shell:
        STEP


# Over the cached checkpoints: per irrep, the embedding share, the clean neurons and the logit
# similarity (key irreps shown, others in the legend); the key irreps' logit fit.
rule figure_over_training:
    input:
        table=rules.over_training.output.table,
        metrics=rules.over_training.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("over_training"),
    params:
        **step("figure_over_training", figures=True),
    log:
        "results/logs/figure_over_training/{exp}.log",
    benchmark:
        "results/benchmarks/figure_over_training/{exp}.tsv"
    shell:
        STEP


# Cyclic groups only (seed 004): ReLU harmonics demo; frequency ablations; neuron phases;
# one frequency's pre-activations by phase and their running sums with/without ReLU (actual,
# idealised, the seed's mock); the hand-made wave; cosines centred on c/2; one frequency's
# neurons mapped to where they write; one frequency kept; attention to a and b; residual
# stream (or hidden neurons) by (c, a). Views that do not fit the model are skipped
# (grokscope.pipeline.NOT_APPLICABLE).
rule figure_cyclic:
    input:
        activations=rules.cache_activations.output.activations,
        phases=rules.cyclic_views.output.phases,
        harmonics=rules.cyclic_views.output.harmonics,
        resid=rules.cyclic_views.output.resid,
        writeout=rules.cyclic_views.output.writeout,
        ablations=rules.ablations.output.table,
        metrics=rules.cyclic_views.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("cyclic"),
    params:
        **step("figure_cyclic", figures=True),
    wildcard_constraints:
        exp=one_of(CYCLIC),
    log:
        "results/logs/figure_cyclic/{exp}.log",
    benchmark:
        "results/benchmarks/figure_cyclic/{exp}.tsv"
    shell:
        STEP


# Sweeps only: each member's key irreps coloured by when they were learned (first starred),
# and how many members learned each irrep.
rule figure_universality:
    input:
        table=rules.universality.output.table,
        summary=rules.universality.output.metrics,
        plotly=rules.assets.output.plotly,
    output:
        figures=figure_output("universality", wildcard="sweep"),
    params:
        **step("figure_universality", figures=True),
    log:
        "results/logs/figure_universality/{sweep}.log",
    benchmark:
        "results/benchmarks/figure_universality/{sweep}.tsv"
    shell:
        STEP
