# results/assets/plotly.min.js: the one copy of plotly.js (the installed plotly's bundle) for
# every figure page of the suite. Each figure job takes it as an input and its pages load it
# by a path relative to themselves, so they work offline, from a copy of results/, and from
# a static web server serving results/.
rule assets:
    output:
        plotly="results/assets/plotly.min.js",
    params:
        **step("assets"),
    log:
        "results/logs/assets/assets.log",
    benchmark:
        "results/benchmarks/assets/assets.tsv"
    shell:
        STEP
