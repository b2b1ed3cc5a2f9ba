"""Phase boundaries of grokking, found by a documented rule from the progress measures.

Rule (thresholds in params/analysis.yaml: phases), on the table of progress measures over
saved checkpoints (one row per epoch):

- memorisation ends at the first epoch with train accuracy ≥ ``memorised_train_acc``;
- circuit formation runs from there to the first later epoch with test accuracy
  ≥ ``cleanup_test_acc`` (the test loss is then falling steeply);
- clean-up runs from there to the first epoch with test accuracy ≥ ``grokked_test_acc``.

Two more markers make "excluded loss rises before test loss falls" checkable:
``excluded_rise_epoch`` (first epoch after memorisation where the excluded loss is at least
``rise_factor`` × its value at memorisation) and ``test_fall_epoch`` (first epoch after
memorisation where the test loss is at most 1 / ``rise_factor`` of its value there).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _first(table: pd.DataFrame, mask: pd.Series) -> int | None:
    hits = table.loc[mask, "epoch"]
    return int(hits.iloc[0]) if len(hits) else None


def phase_boundaries(table: pd.DataFrame, rule: dict[str, Any]) -> dict[str, Any]:
    """Boundaries and phases from progress measures (columns ``epoch, train_acc, test_acc,
    test_loss, excluded_loss``, sorted by epoch)."""
    table = table.sort_values("epoch", ignore_index=True)
    memorised = _first(table, table["train_acc"] >= rule["memorised_train_acc"])
    after = table["epoch"] >= (memorised if memorised is not None else 0)
    cleanup = _first(table, after & (table["test_acc"] >= rule["cleanup_test_acc"]))
    grokked = _first(table, table["test_acc"] >= rule["grokked_test_acc"])
    out: dict[str, Any] = {
        "memorised_epoch": memorised,
        "cleanup_start_epoch": cleanup,
        "grokked_epoch": grokked,
        "excluded_rise_epoch": None,
        "test_fall_epoch": None,
    }
    if memorised is not None:
        at = table[table["epoch"] == memorised].iloc[0]
        later = table["epoch"] > memorised
        factor = rule["rise_factor"]
        out["excluded_rise_epoch"] = _first(
            table, later & (table["excluded_loss"] >= factor * at["excluded_loss"])
        )
        out["test_fall_epoch"] = _first(
            table, later & (table["test_loss"] <= at["test_loss"] / factor)
        )
    ends = [0, memorised, cleanup, grokked]
    names = ["memorisation", "circuit formation", "clean-up"]
    out["phases"] = [
        {"name": name, "start": start, "end": end}
        for name, start, end in zip(names, ends[:-1], ends[1:], strict=True)
        if start is not None and end is not None
    ]
    out["rule"] = dict(rule)
    return out
