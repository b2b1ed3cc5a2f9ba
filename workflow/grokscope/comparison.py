"""Two runs side by side: what a researcher compares between a run grown here and the
published one (or any two runs of the same group).

Pure functions over the runs' metrics files (:func:`compare`); the step that reads them is
:mod:`grokscope.steps.compare`.
"""

from __future__ import annotations

from typing import Any

# (row name, file, key): what the comparison table shows, read from each run's metrics.
ROWS = [
    ("key irreps", "key_irreps", "key_irreps"),
    ("clean-neuron fraction", "neurons", "clean_fraction"),
    ("logit FVE", "logits", "fve"),
    ("test loss", "final", "test_loss"),
    ("restricted loss, logits (test)", "ablations", "logits_restricted_test_loss"),
    ("excluded loss, logits (train)", "ablations", "logits_excluded_train_loss"),
    ("memorisation ends", "phases", "memorisation_end"),
    ("circuit formation ends", "phases", "circuit_formation_end"),
    ("clean-up ends", "phases", "cleanup_end"),
]


def compare(
    ours: dict[str, dict[str, Any]], reference: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The comparison table of two runs: ``{"rows": [{name, ours, reference}], ...}``.

    ``ours``, ``reference``: each run's metrics by file stem (``final``, ``key_irreps``,
    ``neurons``, ``logits``, ``ablations``, ``phases``); a value a run lacks is ``None``.
    """
    rows = []
    for name, stem, key in ROWS:
        rows.append(
            {
                "name": name,
                "ours": ours.get(stem, {}).get(key),
                "reference": reference.get(stem, {}).get(key),
            }
        )
    keys = [set(run.get("key_irreps", {}).get("key_irreps", [])) for run in (ours, reference)]
    return {
        "rows": rows,
        "shared_key_irreps": sorted(keys[0] & keys[1]),
        "only_ours": sorted(keys[0] - keys[1]),
        "only_reference": sorted(keys[1] - keys[0]),
    }
