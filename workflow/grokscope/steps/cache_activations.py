"""Every pair through the chosen checkpoints; each hooked activation to Parquet."""

from __future__ import annotations

from typing import Any

import torch

from grokscope.activations import INDEX_FILE, activation_table, resolve_hooks
from grokscope.checkpoints import load_model, select_checkpoints
from grokscope.data import all_pairs
from grokscope.groups import make_group
from grokscope.io import write_json, write_parquet
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``; outputs: ``activations`` (directory
    ``<hook>/epoch_*.parquet`` + ``hooks.json``, layout in :mod:`grokscope.activations`);
    settings: ``analysis.cache`` (``hooks``, ``checkpoints``)."""
    out_dir, cache = outputs["activations"], settings["analysis"]["cache"]
    # The GPU a cluster job was given, else the CPU.
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    for path in select_checkpoints(inputs["checkpoints"], cache["checkpoints"]):
        model, sidecar = load_model(path)
        params = sidecar["params"]
        group = make_group(params["group"]["name"], params["group"]["n"])
        aliases = model.hook_aliases()
        names = resolve_hooks(aliases, list(model.hook_points), cache["hooks"])
        pairs = all_pairs(group)  # (order², 3): a, b, c
        _, acts = model.to(device).run_with_cache(pairs[:, :2].to(device), names)
        for name in names:
            values = acts[name].cpu().numpy()  # (order², *unit_shape)
            axis = model.answer_axis(name)
            meta = {
                "group": params["group"],
                "model": params["model"],
                "checkpoint": path.name,
                "epoch": sidecar["epoch"],
                "hook": name,
                "unit_shape": list(values.shape[1:]),
                "answer_axis": axis,
                "answer_position": None if axis is None else model.answer_position,
            }
            table = activation_table(pairs.numpy(), values)
            write_parquet(out_dir / name / f"{path.stem}.parquet", table, meta)
    # Which hook each alias resolved to, so later steps can ask for "neurons" of any model.
    resolved = {alias: hook for alias, hook in aliases.items() if hook in names}
    write_json(out_dir / INDEX_FILE, {"aliases": resolved, "hooks": names})
