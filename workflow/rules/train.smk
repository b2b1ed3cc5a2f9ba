# Full-batch training. Checkpoints (safetensors + JSON sidecars) at log-spaced early epochs
# and every train.checkpoint_every; an interrupted job resumes from the scratch directory
# beside the checkpoints (results/<exp>/train/.checkpoints.resume).
rule train:
    input:
        data=rules.dataset.output.pairs,
    output:
        checkpoints=directory("results/{exp}/train/checkpoints"),
        plot="results/{exp}/train/metrics.csv",
        metrics="results/{exp}/train/final.json",
    params:
        **step("train", experiment=["seed", "group", "model", "train"]),
    wildcard_constraints:
        exp=one_of(TRAINED),
    threads: 1  # and the idle cores once the short jobs are done (grokscope.process.IdleCores)
    # The longest training run (the critical path) first; the rest fits beside it.
    priority: lambda w: training_priority(PARAMS["experiments"][w.exp])
    resources:
        # GPUs (Snakemake's standard `gpu` resource): none locally; the slurm profile asks
        # for one (set-resources). Training uses a GPU when CUDA sees one, else the CPU.
        gpu=0,
    log:
        "results/logs/train/{exp}.log",
    benchmark:
        "results/benchmarks/train/{exp}.tsv"
    shell:
        STEP
