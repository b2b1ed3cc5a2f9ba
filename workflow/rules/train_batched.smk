# Sweeps with `batched: true`: all seeds of one experiment trained as one stacked model in
# one job (grokscope.batched), with the same outputs per member as `train` writes.
for _sweep, _members in BATCHED.items():

    rule:
        name:
            f"train_batched_{_sweep}"
        input:
            **{f"data:{m}": f"results/{m}/data/pairs.parquet" for m in _members},
        output:
            **{f"checkpoints:{m}": directory(f"results/{m}/train/checkpoints") for m in _members},
            **{f"plot:{m}": f"results/{m}/train/metrics.csv" for m in _members},
            **{f"metrics:{m}": f"results/{m}/train/final.json" for m in _members},
        params:
            **step(
                "train_batched",
                experiment=["group", "model", "train"],
                exp=_members[0],
                seeds=_members,
            ),
            source=_sweep,
        threads: 1
        log:
            f"results/logs/train_batched/{_sweep}.log",
        benchmark:
            f"results/benchmarks/train_batched/{_sweep}.tsv"
        shell:
            STEP
