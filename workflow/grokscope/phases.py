"""The three phases of grokking, found in a run's loss curves by one documented rule.

The grokking paper names three phases of its mod-113 run: *memorisation* (to ~1.4k epochs),
*circuit formation* (to ~9.4k) and *clean-up* (to ~14k). Its logged curves (the reference
checkpoint's ``train_losses``/``test_losses``) mark them as follows, which is the rule here:

- memorisation ends where the **test loss peaks** (the model fits the training pairs while
  getting ever more confidently wrong on the rest): 1,420 on the published curves;
- circuit formation ends at the first evaluation after that where the **test loss falls
  below ln |G|**, the loss of a uniform guess: the model is better than chance on pairs it
  never saw. 9,330 on the published curves;
- clean-up ends at the first evaluation after that where the **test loss is within
  ``gap_factor`` of the train loss** (params/analysis.yaml ``phases``; 10): the
  generalisation gap has closed. 13,700 on the published curves with the default factor.

A boundary that the run never reaches is ``None`` and its phase is left open. Markers from
the progress measures make the paper's observations checkable on any run:

- ``restricted_loss_falls``: the first checkpoint after memorisation with a restricted loss
  below ln |G|, and whether that is before the test loss does (``restricted_before_test``);
- the excluded loss at the end of memorisation and of circuit formation (the checkpoints
  nearest them): it is low while the model memorises (a memorising network does not use the
  key irreps, so removing them costs nothing) and **rises** during circuit formation, to
  above ln |G| / 2 (``excluded_rises``);
- its lowest value from the end of circuit formation to the end of the run: it **stays high**,
  above ln |G| / 2, once the circuit is formed (``excluded_stays_high``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def _first(table: pd.DataFrame, mask: pd.Series) -> int | None:
    hits = table.loc[mask, "epoch"]
    return int(hits.iloc[0]) if len(hits) else None


def _nearest(table: pd.DataFrame, epoch: int, column: str) -> float:
    """``column`` at the row whose epoch is nearest ``epoch``."""
    return float(table.loc[(table["epoch"] - epoch).abs().idxmin(), column])


def phase_boundaries(
    curves: pd.DataFrame, progress: pd.DataFrame, order: int, rule: dict[str, Any]
) -> dict[str, Any]:
    """Phase boundaries and markers.

    Args:
        curves: the run's evaluations (``epoch, train_loss, test_loss``; NaN where not
            logged), e.g. ``train/metrics.csv``.
        progress: the progress measures per checkpoint (``epoch, restricted_loss,
            excluded_loss``); may be a single row.
        order: |G|, for the uniform-guess loss ln |G|.
        rule: params/analysis.yaml ``phases`` (``gap_factor``).
    """
    chance = math.log(order)
    curves = curves.dropna(subset=["test_loss"]).sort_values("epoch", ignore_index=True)
    progress = progress.sort_values("epoch", ignore_index=True) if len(progress) else progress
    out: dict[str, Any] = dict.fromkeys(
        ["memorisation_end", "circuit_formation_end", "cleanup_end", "restricted_loss_falls"]
    )
    out |= dict.fromkeys(
        ["restricted_before_test", "excluded_loss_at_memorisation_end"]
        + ["excluded_loss_at_circuit_formation_end", "excluded_rises"]
        + ["excluded_loss_min_after_circuit_formation", "excluded_stays_high"]
    )
    if len(curves):
        peak = int(curves.loc[curves["test_loss"].idxmax(), "epoch"])
        after = curves["epoch"] > peak
        formed = _first(curves, after & (curves["test_loss"] < chance))
        closed = None
        if formed is not None:
            gap = curves["test_loss"] <= rule["gap_factor"] * curves["train_loss"]
            closed = _first(curves, (curves["epoch"] > formed) & gap)
        out |= {"memorisation_end": peak, "circuit_formation_end": formed, "cleanup_end": closed}
    if out["memorisation_end"] is not None and len(progress) > 1:
        later = progress["epoch"] > out["memorisation_end"]
        falls = _first(progress, later & (progress["restricted_loss"] < chance))
        out["restricted_loss_falls"] = falls
        if falls is not None and out["circuit_formation_end"] is not None:
            out["restricted_before_test"] = falls < out["circuit_formation_end"]
        formed = out["circuit_formation_end"]
        if formed is not None:
            at_start = _nearest(progress, out["memorisation_end"], "excluded_loss")
            at_end = _nearest(progress, formed, "excluded_loss")
            after = progress.loc[progress["epoch"] >= formed, "excluded_loss"]
            lowest = float(after.min()) if len(after) else at_end
            out |= {
                "excluded_loss_at_memorisation_end": at_start,
                "excluded_loss_at_circuit_formation_end": at_end,
                "excluded_rises": at_end > max(at_start, chance / 2),
                "excluded_loss_min_after_circuit_formation": lowest,
                "excluded_stays_high": lowest > chance / 2,
            }
    ends = [0, out["memorisation_end"], out["circuit_formation_end"], out["cleanup_end"]]
    names = ["memorisation", "circuit formation", "clean-up"]
    out["phases"] = [
        {"name": name, "start": start, "end": end}
        for name, start, end in zip(names, ends[:-1], ends[1:], strict=True)
        if start is not None and end is not None
    ]
    out["rule"] = {**rule, "chance_loss": chance}
    return out
