# Sweeps with `batched: true`: all seeds of one experiment trained as one stacked model in
# one job (grokscope.batched), with the same outputs per member as `train` writes.
for _sweep, _members in BATCHED.items():

    rule:
        name:
            f"train_batched_{_sweep}"
        input:
            data=[f"results/{m}/data/pairs.parquet" for m in _members],
        output:
            checkpoints=[directory(f"results/{m}/train/checkpoints") for m in _members],
            plot=[f"results/{m}/train/metrics.csv" for m in _members],
            metrics=[f"results/{m}/train/final.json" for m in _members],
        params:
            experiment=json.dumps(
                {k: PARAMS["experiments"][_members[0]][k] for k in ("group", "model", "train")},
                sort_keys=True,
            ),
            seeds=" ".join(str(PARAMS["experiments"][m]["seed"]) for m in _members),
            out=" ".join(f"results/{m}" for m in _members),
            source=_sweep,
        threads: 1
        log:
            f"results/logs/train_batched/{_sweep}.log",
        benchmark:
            f"results/benchmarks/train_batched/{_sweep}.tsv"
        shell:
            "python -m grokscope train-batched --experiment {params.experiment:q}"
            " --seeds {params.seeds} --data {input.data} --out {params.out}"
            " --threads {threads} 2> {log}"
