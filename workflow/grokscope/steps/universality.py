"""Sweeps only: which key irreps each member learned, how often each irrep is learned, and
which one each member learned first."""

from __future__ import annotations

from typing import Any

from grokscope.io import read_json, read_parquet, write_json, write_parquet
from grokscope.steps import Paths
from grokscope.universality import universality_summary, universality_table


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``key_irreps:<member>`` (JSON) and ``progress:<member>`` (Parquet) per member;
    outputs: ``table``, ``metrics``; settings: ``members`` (member → seed)."""
    members = {
        member: {
            "seed": seed,
            "key_irreps": read_json(inputs[f"key_irreps:{member}"])["key_irreps"],
            "progress": read_parquet(inputs[f"progress:{member}"]),
        }
        for member, seed in settings["members"].items()
    }
    table = universality_table(members)
    write_parquet(outputs["table"], table)
    write_json(outputs["metrics"], universality_summary(table))
