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
    "over_training",
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
    "over_training": "Analyses over training (cached checkpoints)",
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


# Views that do not fit a model, by model kind: figure (job/name) → why. The figure jobs skip
# them, and the report lists them with the reason.
_NO_ATTENTION = "no attention layer, so no attention to a or b"
_NO_RESID = "no residual stream (resid_by_c_a shows the hidden units instead)"
_PRODUCTS = (
    "its units are products x_i(a)·y_i(b) of the two embeddings with no ReLU: there is no sum of "
    "a wave in a and a wave in b to take the phase of, clip, or add up after a ReLU"
)
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "bilinear": {
        "cyclic/neuron_phases": _PRODUCTS,
        "cyclic/preactivations_by_phase": _PRODUCTS,
        "cyclic/running_sums": _PRODUCTS + " (product_running_sums shows how the product "
        "units of one frequency add up to a wave in a + b instead)",
        "cyclic/ideal_preactivations": "idealised additive ReLU neurons: " + _PRODUCTS,
        "cyclic/running_sums_ideal": "idealised additive ReLU neurons: " + _PRODUCTS,
        "cyclic/running_sums_seed_mock": "idealised additive ReLU neurons: " + _PRODUCTS,
        "cyclic/attention_a_vs_b": _NO_ATTENTION,
        "cyclic/resid_mid_by_c_a": _NO_RESID,
    },
    "mlp": {
        "cyclic/attention_a_vs_b": _NO_ATTENTION,
        "cyclic/resid_mid_by_c_a": _NO_RESID,
    },
    "transformer": {},
}
NON_CYCLIC = {
    "cyclic/*": "seed 004's signal-processing views (frequencies, FFTs along an input, "
    "phases, symmetry about c/2) need a cyclic group",
}


def not_applicable(kind: str, cyclic: bool) -> dict[str, str]:
    """The views one experiment does not get, with the reason."""
    return {**NOT_APPLICABLE.get(kind, {}), **({} if cyclic else NON_CYCLIC)}
