# Sweeps only: which key irreps each member (seed) learned, how often each irrep appears,
# and which one each member learned first (rule in grokscope.universality).
def sweep_inputs(w):
    members = SWEEPS[w.sweep]
    return {
        **{f"key_irreps:{m}": f"results/{m}/analysis/key_irreps.json" for m in members},
        **{f"progress:{m}": f"results/{m}/analysis/progress.parquet" for m in members},
    }


rule universality:
    input:
        unpack(sweep_inputs),
    output:
        table="results/{sweep}/universality.parquet",
        metrics="results/{sweep}/universality.json",
    params:
        **step(
            "universality",
            seeds=lambda w: SWEEPS[w.sweep],
        ),
    log:
        "results/logs/universality/{sweep}.log",
    benchmark:
        "results/benchmarks/universality/{sweep}.tsv"
    shell:
        STEP
