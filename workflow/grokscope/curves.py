"""A run's training curves (``train/metrics.csv``) and the epochs at which it memorised and
grokked: one definition of each, used by training, imports, the phases and the report.

A run has *memorised* at the first evaluated epoch whose train accuracy is at least
:data:`GROKKED_ACC`, and *grokked* at the first whose test accuracy is. An epoch only counts
when every earlier evaluation was measured too (an imported run whose early accuracies were
never logged has no known grokking epoch). No torch here: figure steps read curves too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from grokscope.errors import ArtifactError

GROKKED_ACC = 0.99
METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]
SHARE_PREFIX = "share "  # progress-table columns: each irrep's share of the embedding norm


def first_epoch(epochs: Sequence[int], values: Sequence[float], threshold: float) -> int | None:
    """The first epoch whose value is at least ``threshold``, if every earlier value is known
    (not NaN); ``None`` otherwise. ``epochs`` ascending."""
    for epoch, value in zip(epochs, values, strict=True):
        if value != value:  # NaN: not measured, so nothing later can be "the first"
            return None
        if value >= threshold:
            return int(epoch)
    return None


def summarize(table: pd.DataFrame) -> dict[str, float | int | None]:
    """Final metrics of a run from its metrics table (:data:`METRIC_COLUMNS`, one row per
    evaluation): the last row, ``memorised_epoch`` and ``grokked_epoch``."""
    table = table.sort_values("epoch")
    last = table.iloc[-1]
    epochs = table["epoch"].tolist()
    return {
        **{k: (int(last[k]) if k == "epoch" else float(last[k])) for k in METRIC_COLUMNS},
        "memorised_epoch": first_epoch(epochs, table["train_acc"].tolist(), GROKKED_ACC),
        "grokked_epoch": first_epoch(epochs, table["test_acc"].tolist(), GROKKED_ACC),
    }


def read_curves(path: str | Path) -> pd.DataFrame:
    """A run's metrics table (``train/metrics.csv``: :data:`METRIC_COLUMNS`)."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ArtifactError(f"{path}: not a readable metrics table ({err})") from None
    missing = set(METRIC_COLUMNS) - set(df.columns)
    if missing:
        raise ArtifactError(f"{path}: metrics table lacks columns {sorted(missing)}")
    # Losses are always measured; accuracies may be missing (NaN: an imported run's log).
    numeric = df[METRIC_COLUMNS].apply(pd.to_numeric, errors="coerce")
    bad = numeric[["train_loss", "test_loss"]].isna().any(axis=1) | numeric.isin(
        [float("inf"), float("-inf")]
    ).any(axis=1)
    if bad.any():
        row, epoch = df[bad].iloc[0], numeric["epoch"][bad].iloc[0]
        epoch = f"{epoch:.0f}" if pd.notna(epoch) else "?"
        raise ArtifactError(
            f"{path}: not finite at epoch {epoch} (train_loss {row['train_loss']}, "
            f"test_loss {row['test_loss']}): the run diverged; retrain it (a lower train.lr)"
        )
    return df
