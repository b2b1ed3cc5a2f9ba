# Training curves: loss (log y) and accuracy, as interactive HTML and PNG.
rule figure_training:
    input:
        "results/{exp}/train/metrics.csv",
    output:
        directory("results/{exp}/figures/training"),
    params:
        figures=figure_style(),
    log:
        "results/logs/figure_training/{exp}.log",
    benchmark:
        "results/benchmarks/figure_training/{exp}.tsv"
    shell:
        "python -m grokscope figure training --inputs {input} --style {params.figures:q}"
        " --out-dir {output} 2> {log}"
