"""Headline numbers: what a researcher compares across runs, in one small file per experiment
(``results/<exp>/headline.json``) and per sweep (``results/<sweep>/headline.json``).

These are the only files DVC treats as metrics (``grokscope.dvcgen``), so ``dvc metrics
show`` and ``dvc exp show`` print one short row per run instead of every irrep's score; the
detailed JSON and Parquet tables they summarise stay outputs. Pure functions over the
metrics the steps already wrote; the steps are :mod:`grokscope.steps.headline` and
:mod:`grokscope.steps.sweep_headline`.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

# An experiment's headline, in the order the tables show it: (key, file stem, key there).
# `restricted_loss` and `excluded_loss` are the logit-level ablations of the grokking paper
# (all key irreps kept / removed): the restricted loss on the test pairs, the excluded loss
# on the training pairs, as in the comparison with a reference run (grokscope.comparison).
EXPERIMENT_KEYS = [
    ("train_loss", "final", "train_loss"),
    ("test_loss", "final", "test_loss"),
    ("train_acc", "final", "train_acc"),
    ("test_acc", "final", "test_acc"),
    ("memorised_epoch", "final", "memorised_epoch"),
    ("grokked_epoch", "final", "grokked_epoch"),
    ("key_irreps", "key_irreps", "key_irreps"),
    ("key_irrep_count", "key_irreps", "key_irreps"),
    ("clean_fraction", "neurons", "clean_fraction"),
    ("logit_fve", "logits", "fve"),
    ("restricted_loss", "ablations", "logits_restricted_test_loss"),
    ("excluded_loss", "ablations", "logits_excluded_train_loss"),
    ("memorisation_end", "phases", "memorisation_end"),
    ("circuit_formation_end", "phases", "circuit_formation_end"),
    ("cleanup_end", "phases", "cleanup_end"),
]
SWEEP_KEYS = [
    "members",
    "grokked_members",
    "grokked_epoch_median",
    "test_acc_min",
    "key_irreps",
    "key_irrep_sets",
    "learned_first",
]
SIGNIFICANT = 6  # digits kept of each float: a table to read, not a record (that is the JSON)


def _number(value: Any) -> Any:
    """Floats rounded to :data:`SIGNIFICANT` digits; ints, strings and None as they are."""
    return float(f"{value:.{SIGNIFICANT}g}") if isinstance(value, float) else value


def irrep_list(labels: list[str]) -> str:
    """Irrep labels as one string, in the given order (labels with commas are bracketed)."""
    return ", ".join(labels)


def experiment_headline(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One run's headline (:data:`EXPERIMENT_KEYS`, in that order).

    Args:
        files: the run's metrics by file stem: ``final`` (train/final.json), ``key_irreps``,
            ``neurons``, ``logits``, ``ablations``, ``phases`` (analysis/*.json).

    Returns:
        Flat ``{key: number | string | None}``; the key irreps (strongest first) as one
        string and their count; an epoch the run never reached is None.
    """
    out: dict[str, Any] = {}
    for key, stem, source in EXPERIMENT_KEYS:
        value = files[stem][source]
        if key == "key_irreps":
            value = irrep_list(value)
        elif key == "key_irrep_count":
            value = len(value)
        out[key] = _number(value)
    return out


def _most_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    """``(label, count)`` by count, most first (ties by label)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def sweep_headline(
    universality: dict[str, Any], members: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """A sweep's headline (:data:`SWEEP_KEYS`, in that order).

    Args:
        universality: the sweep's ``universality.json`` (``members_learning``,
            ``members_learning_first``, ``key_irreps_by_member``).
        members: each member's headline (:func:`experiment_headline`) by name.

    Returns:
        ``members``; ``grokked_members`` (how many grokked) and their median
        ``grokked_epoch_median`` (None when none did); the lowest final test accuracy; every
        irrep some member learned with how many did (``"[3, 1] 8/8, [2, 1, 1] 3/8"``, most
        often first); how many different sets of key irreps the members learned; the irrep
        most often learned first, with how many members learned it first.
    """
    n = len(members)
    grokked = [m["grokked_epoch"] for m in members.values() if m["grokked_epoch"] is not None]
    learning = _most_first(universality["members_learning"])
    firsts = _most_first(universality["members_learning_first"])
    sets = {tuple(sorted(labels)) for labels in universality["key_irreps_by_member"].values()}
    return {
        "members": n,
        "grokked_members": len(grokked),
        "grokked_epoch_median": _number(float(statistics.median(grokked))) if grokked else None,
        "test_acc_min": _number(min(float(m["test_acc"]) for m in members.values())),
        "key_irreps": ", ".join(f"{irrep} {count}/{n}" for irrep, count in learning),
        "key_irrep_sets": len(sets),
        "learned_first": f"{firsts[0][0]} {firsts[0][1]}/{n}" if firsts else None,
    }


def as_json(headline: dict[str, Any]) -> str:
    """The file's text: keys in the headline's own order (the order the tables show)."""
    return json.dumps(headline, indent=2, ensure_ascii=False) + "\n"
