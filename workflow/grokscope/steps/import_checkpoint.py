"""A checkpoint trained elsewhere, converted into the outputs the ``train`` step writes."""

from __future__ import annotations

from typing import Any

import pandas as pd

from grokscope.checkpoints import save_checkpoint
from grokscope.curves import summarize
from grokscope.errors import ArtifactError
from grokscope.external import (
    check_published_mod113,
    convert_published_mod113,
    load_untrusted,
    logged_curves,
)
from grokscope.io import atomic_directory, read_parquet, write_json, write_text
from grokscope.models import build_model
from grokscope.steps import Paths
from grokscope.train import evaluate, split_tensors


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoint`` (the external file), ``data``; outputs: as the ``train`` step;
    settings: ``experiment`` (``seed``, ``group``, ``model``, ``import``)."""
    exp, path = settings["experiment"], inputs["checkpoint"]
    raw = load_untrusted(path)
    order = check_published_mod113(raw, path, exp["group"])
    model = build_model(exp["model"], order, exp["seed"])
    try:
        model.load_state_dict(convert_published_mod113(raw, order, exp["model"]["n_heads"]))
    except (RuntimeError, KeyError) as err:
        first = str(err).splitlines()[0]
        raise ArtifactError(f"{path}: weights do not fit params' model ({first})") from None

    # The logged loss curves, then this file's weights measured on our split.
    epoch = int(raw["epochs"][-1]) if "epochs" in raw else len(raw["train_losses"])
    measured = {"epoch": epoch}
    for split, (x, y) in split_tensors(read_parquet(inputs["data"])).items():
        measured[f"{split}_loss"], measured[f"{split}_acc"] = evaluate(model, x, y)
    curves = logged_curves(raw)
    curves = pd.concat([curves[curves["epoch"] < epoch], pd.DataFrame([measured])])

    with atomic_directory(outputs["checkpoints"]) as tmp:
        sidecar = {"params": exp, "order": order, "metrics": measured, "source": str(path)}
        save_checkpoint(tmp, epoch, model.state_dict(), sidecar)
    write_text(outputs["plot"], curves.to_csv(index=False, float_format="%.9g"))
    # Accuracies were not logged during the original run, so when it memorised and grokked
    # is unknown here (summarize says None).
    final = summarize(curves)
    final["logged_train_loss"] = float(raw["train_losses"][-1])
    final["logged_test_loss"] = float(raw["test_losses"][-1])
    write_json(outputs["metrics"], final)
