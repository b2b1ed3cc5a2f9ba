# Full-batch training. Checkpoints (safetensors + JSON sidecars) at log-spaced early epochs
# and every train.checkpoint_every; an interrupted job resumes from results/<exp>/.resume.
rule train:
    input:
        data="results/{exp}/data/pairs.parquet",
    output:
        checkpoints=directory("results/{exp}/train/checkpoints"),
        plot="results/{exp}/train/metrics.csv",
        metrics="results/{exp}/train/final.json",
    params:
        experiment=experiment("seed", "group", "model", "train"),
        resume="results/{exp}/.resume/train",
    wildcard_constraints:
        exp=one_of(TRAINED),
    threads: 1
    resources:
        # GPUs (Snakemake's standard `gpu` resource): none locally; the slurm profile asks
        # for one (set-resources). Training uses a GPU when CUDA sees one, else the CPU.
        gpu=0,
    log:
        "results/logs/train/{exp}.log",
    benchmark:
        "results/benchmarks/train/{exp}.tsv"
    shell:
        "python -m grokscope train --experiment {params.experiment:q} --data {input.data}"
        " --checkpoints {output.checkpoints} --metrics-csv {output.plot}"
        " --metrics-json {output.metrics} --resume {params.resume} --threads {threads}"
        " 2> {log}"
