"""The pipeline's steps and figure jobs, listed once.

The Snakefile builds every experiment's targets from :func:`experiment_steps` (one rule per
step, same name, in ``workflow/rules/``), the CLI runs ``grokscope.steps.<step>``, and the
report orders its sections by :data:`FIGURE_JOBS`.
"""

from __future__ import annotations

# Analysis steps of every experiment, in data-flow order (after `dataset` and `train`, or
# `import_checkpoint` for an experiment with an `import` block).
ANALYSIS_STEPS = [
    "cache_activations",
    "key_irreps",
    "neurons",
    "logits",
    "cyclic_views",
    "ablations",
    "progress",
]
# The run's headline numbers (the one file DVC treats as its metrics), after its analyses.
SUMMARY_STEPS = ["headline"]
# Figure jobs (one rule `figure_<job>` each) → their section title in the report, in reading
# order.
FIGURE_JOBS = {
    "training": "Training",
    "progress": "Progress measures",
    "fourier": "Fourier view of the weights",
    "neurons": "Neurons",
    "logits": "Logits and ablations",
    "cyclic": "Signal-processing view (cyclic group)",
    "reference": "Beside the reference run",
}
# Steps that only apply to cyclic groups (seed 004's views).
CYCLIC_ONLY = {"cyclic_views", "figure_cyclic"}
# Steps of an experiment compared with a reference run (`compare_with` in its params).
COMPARED_ONLY = {"compare", "figure_reference"}
# Steps of a sweep as a whole (after all of its members' steps); `sweep_headline` is the one
# file DVC treats as the sweep's metrics.
SWEEP_STEPS = ["universality", "sweep_headline", "figure_universality"]
SWEEP_FIGURE_JOBS = {"universality": "Universality across the sweep"}
# Steps of the suite as a whole, run once: the plotly.js every figure page loads (an input of
# every figure job) and the report page (after everything).
SUITE_STEPS = ["assets", "report"]


def experiment_steps(imported: bool, cyclic: bool, compared: bool = False) -> list[str]:
    """Every step of one experiment, in data-flow order."""
    steps = ["dataset", "import_checkpoint" if imported else "train", *ANALYSIS_STEPS]
    steps += [*SUMMARY_STEPS, "compare", *(f"figure_{job}" for job in FIGURE_JOBS)]
    skip = (set() if cyclic else CYCLIC_ONLY) | (set() if compared else COMPARED_ONLY)
    return [step for step in steps if step not in skip]


def figure_jobs(cyclic: bool, compared: bool = False) -> list[str]:
    """The figure jobs of one experiment, in reading order."""
    steps = experiment_steps(False, cyclic, compared)
    return [job for job in FIGURE_JOBS if f"figure_{job}" in steps]
