"""The published mod-113 checkpoint, imported and analysed like our own runs.

Reads ``../shared/reference/nanda_mod113_final.pth`` beside the repository (never copied into
it); every test here is skipped, saying so, when the file is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from repo_utils import ROOT, make_repo, run

from grokscope import dvcfiles
from grokscope.data import make_dataset
from grokscope.external import load_untrusted
from grokscope.groups import make_group
from grokscope.io import read_json, write_parquet
from grokscope.steps import import_checkpoint

REFERENCE = ROOT.parent / "shared" / "reference" / "nanda_mod113_final.pth"
PAPER_KEYS = {"freq 14", "freq 35", "freq 41", "freq 42", "freq 52"}
pytestmark = pytest.mark.skipif(
    not REFERENCE.exists(), reason=f"reference checkpoint not found at {REFERENCE}"
)
EXP = yaml.safe_load((ROOT / "params/experiments/nanda_mod113.yaml").read_text())


def test_imported_losses_match_the_logged_ones(tmp_path):
    data = tmp_path / "pairs.parquet"
    group = make_group("cyclic", 113)
    write_parquet(data, make_dataset(group, 0.3, 0, "published"))
    outputs = {
        "checkpoints": tmp_path / "checkpoints",
        "plot": tmp_path / "metrics.csv",
        "metrics": tmp_path / "final.json",
    }
    import_checkpoint.run({"checkpoint": REFERENCE, "data": data}, outputs, {"experiment": EXP})
    final = read_json(outputs["metrics"])
    raw = load_untrusted(REFERENCE)
    assert final["train_loss"] == pytest.approx(float(raw["train_losses"][-1]), rel=0.01)
    assert final["test_loss"] == pytest.approx(float(raw["test_losses"][-1]), rel=0.01)
    assert final["train_acc"] == 1.0 and final["test_acc"] == 1.0
    assert (outputs["checkpoints"] / "epoch_0049900.safetensors").exists()


@pytest.mark.slow
def test_pipeline_on_the_reference_finds_the_papers_key_frequencies(tmp_path):
    repo = make_repo(tmp_path / "repo", ["tiny_c41"])
    (repo / "external").mkdir(exist_ok=True)
    os.symlink(REFERENCE, repo / "external/nanda_mod113_final.pth")
    (repo / "params/suite.yaml").write_text("experiments: [nanda_mod113]\n")
    # The run beside a reference run: here itself (the mechanics without training another
    # transformer): the comparison table, the overlay figure and the report's section.
    exp = repo / "params/experiments/nanda_mod113.yaml"
    exp.write_text(exp.read_text() + "compare_with: nanda_mod113\n")
    run("grokscope dvc-yaml", repo)
    deps = dvcfiles.stages(repo)["import_checkpoint-nanda_mod113"]
    assert "external/nanda_mod113_final.pth" in deps["deps"]  # DVC tracks the external file
    run("snakemake --cores 2", repo)

    results = repo / "results/nanda_mod113"
    keys = json.loads((results / "analysis/key_irreps.json").read_text())
    assert set(keys["key_irreps"]) == PAPER_KEYS, keys["reason"]
    curves = (results / "train/metrics.csv").read_text().splitlines()
    assert len(curves) > 1000  # the logged loss curves became the training curves

    # The report shows every figure job of a cyclic transformer for it.
    index = (repo / "results/index.html").read_text()
    # The paper's phases, found in the published run's logged curves.
    phases = json.loads((results / "analysis/phases.json").read_text())
    assert abs(phases["memorisation_end"] - 1400) <= 100
    assert abs(phases["circuit_formation_end"] - 9400) <= 200
    assert abs(phases["cleanup_end"] - 14000) <= 500
    comparison = json.loads((results / "analysis/comparison.json").read_text())
    assert comparison["reference"] == "nanda_mod113" and comparison["only_ours"] == []
    assert all(row["ours"] == row["reference"] for row in comparison["rows"])
    assert "Beside nanda_mod113" in (repo / "results/index.html").read_text()
    for job in ("training", "fourier", "neurons", "logits", "cyclic", "progress", "reference"):
        assert f"nanda_mod113/figures/{job}/" in index, job
        assert any((results / "figures" / job).glob("*.png")), job
    for name in ("neurons", "logits", "ablations"):
        print(name, (results / f"analysis/{name}.json").read_text())


def test_a_file_needing_arbitrary_unpickling_is_refused(tmp_path):
    import torch

    from grokscope.io import ArtifactError

    path = tmp_path / "evil.pth"
    torch.save({"config": Path("x")}, path)  # a pathlib object is not a plain container
    with pytest.raises(ArtifactError, match="refused"):
        load_untrusted(path)
