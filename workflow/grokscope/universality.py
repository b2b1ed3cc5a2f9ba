"""Universality across a sweep: which key irreps each member learned, how often each irrep
is learned, and which one each member learned first.

"Learned at" (documented rule): the first saved checkpoint at which the irrep's share of the
embedding norm reaches half of its final share. The irrep learned first is the key irrep with
the earliest such epoch (ties: all of them).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from grokscope.curves import SHARE_PREFIX


def learned_epochs(progress: pd.DataFrame, irreps: list[str]) -> dict[str, int | None]:
    """Per irrep, the first epoch its embedding share reaches half its final share."""
    progress = progress.sort_values("epoch")
    out = {}
    for irrep in irreps:
        shares = progress[SHARE_PREFIX + irrep]
        hits = progress.loc[shares >= 0.5 * shares.iloc[-1], "epoch"]
        out[irrep] = int(hits.iloc[0]) if len(hits) else None
    return out


def universality_table(members: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per (member, key irrep).

    Args:
        members: name → ``{"seed", "key_irreps": [labels], "progress": DataFrame}``.

    Returns:
        ``member, seed, irrep, final_share, learned_epoch, learned_first``.
    """
    rows = []
    for name, m in members.items():
        epochs = learned_epochs(m["progress"], m["key_irreps"])
        known = [e for e in epochs.values() if e is not None]
        first = min(known) if known else None
        last = m["progress"].sort_values("epoch").iloc[-1]
        for irrep in m["key_irreps"]:
            rows.append(
                {
                    "member": name,
                    "seed": m["seed"],
                    "irrep": irrep,
                    "final_share": float(last[SHARE_PREFIX + irrep]),
                    "learned_epoch": epochs[irrep],
                    "learned_first": epochs[irrep] is not None and epochs[irrep] == first,
                }
            )
    return pd.DataFrame(rows)


def universality_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Counts per irrep (members that learned it / learned it first) and each member's set."""
    members = table["member"].unique()
    counts = table.groupby("irrep")["member"].nunique().sort_values(ascending=False)
    firsts = table[table["learned_first"]].groupby("irrep")["member"].nunique()
    return {
        "members": len(members),
        "key_irreps_by_member": {
            m: sorted(table.loc[table["member"] == m, "irrep"]) for m in members
        },
        "members_learning": {irrep: int(n) for irrep, n in counts.items()},
        "members_learning_first": {irrep: int(n) for irrep, n in firsts.items()},
    }
