"""Where the pipeline puts a run's files, relative to ``results/<experiment>/``, for readers
outside the pipeline (the notebook API, :mod:`grokscope.explore`).

The rules in ``workflow/rules/`` are the definition; ``tests/test_explore.py`` checks these
against them. No pipeline step imports this module.
"""

from __future__ import annotations

# A run is built once `train` (or `import_checkpoint`) has written these.
TRAIN_OUTPUTS = ["train/checkpoints", "train/metrics.csv", "train/final.json"]
# Each figure job's inputs, by the names its rule gives them, relative to the run directory
# (tests/test_explore.py checks them against the rules in workflow/rules/figures.smk).
FIGURE_INPUTS: dict[str, dict[str, str]] = {
    "training": {"curves": "train/metrics.csv"},
    "progress": {"progress": "analysis/progress.parquet", "phases": "analysis/phases.json"},
    "fourier": {
        "data": "data/pairs.parquet",
        "basis_norms": "analysis/basis_norms.parquet",
        "irrep_norms": "analysis/irrep_norms.parquet",
        "weights": "analysis/weights.parquet",
        "key_irreps": "analysis/key_irreps.json",
    },
    "neurons": {
        "activations": "activations",
        "clusters": "analysis/neuron_clusters.parquet",
        "sizes": "analysis/cluster_sizes.parquet",
        "fourier_mean": "analysis/fourier_mean.parquet",
        "irrep_norms": "analysis/irrep_norms.parquet",
        "metrics": "analysis/neurons.json",
    },
    "logits": {
        "readout": "analysis/readout_by_cluster.parquet",
        "directions": "analysis/logit_directions.parquet",
        "components": "analysis/logit_components_ab.parquet",
        "fit": "analysis/logits.json",
        "key_irreps": "analysis/key_irreps.json",
        "search": "analysis/key_irrep_search.parquet",
        "irrep_norms": "analysis/irrep_norms.parquet",
        "ablations": "analysis/ablations.parquet",
        "ablation_metrics": "analysis/ablations.json",
    },
    "over_training": {
        "table": "analysis/over_training.parquet",
        "metrics": "analysis/over_training.json",
    },
    "cyclic": {
        "activations": "activations",
        "phases": "analysis/neuron_phases.parquet",
        "harmonics": "analysis/harmonics.parquet",
        "resid": "analysis/resid_by_c_a.parquet",
        "writeout": "analysis/neuron_writeout.parquet",
        "ablations": "analysis/ablations.parquet",
        "metrics": "analysis/cyclic.json",
    },
}


def how_to_build(name: str) -> str:
    return (
        f"build it (list `{name}` in params/suite.yaml, then `snakemake --cores all`) or "
        "fetch a pushed build (`grokscope pull`)"
    )
