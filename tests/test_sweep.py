"""Sweeps: expansion into members, and a seed sweep of S_4 MLPs through the real pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from repo_utils import ROOT, make_repo, run, unreached_by_dvc_repro

from grokscope import dvcfiles
from grokscope.params import ParamsError, expand_sweep
from grokscope.universality import learned_epochs, universality_summary, universality_table

SWEEP = yaml.safe_load((ROOT / "params/experiments/sweep_s4.yaml").read_text())


def test_sweep_expands_to_named_members():
    members = expand_sweep("sweep_s4", SWEEP, "sweep_s4.yaml")
    assert list(members) == [f"sweep_s4-seed{s}" for s in range(8)]
    assert [m["seed"] for m in members.values()] == list(range(8))
    assert all("sweep" not in m for m in members.values())


def test_two_swept_keys_make_the_product():
    exp = {**SWEEP, "sweep": {"seed": [0, 1], "train.lr": [0.01, 0.02]}}
    members = expand_sweep("s", exp, "s.yaml")
    assert set(members) == {"s-seed0-lr0.01", "s-seed0-lr0.02", "s-seed1-lr0.01", "s-seed1-lr0.02"}
    assert members["s-seed1-lr0.02"]["train"]["lr"] == 0.02


@pytest.mark.parametrize(
    ("sweep", "needle"),
    [({"train.nope": [1]}, "sweep.train.nope: no such key"), ({"train.lr": [-1]}, "train.lr")],
)
def test_bad_sweeps_name_the_field(sweep, needle):
    with pytest.raises(ParamsError, match=needle):
        expand_sweep("s", {**SWEEP, "sweep": sweep}, "s.yaml")


def test_universality_rule_on_a_known_table():
    progress = pd.DataFrame(
        {
            "epoch": [0, 100, 200, 300],
            "share a": [0.1, 0.1, 0.4, 0.6],
            "share b": [0.1, 0.5, 0.5, 0.4],
        }
    )
    assert learned_epochs(progress, ["a", "b"]) == {"a": 200, "b": 100}
    table = universality_table(
        {
            "m0": {"seed": 0, "key_irreps": ["a", "b"], "progress": progress},
            "m1": {"seed": 1, "key_irreps": ["b"], "progress": progress},
        }
    )
    first = table[table["learned_first"]]
    assert sorted(zip(first["member"], first["irrep"], strict=True)) == [("m0", "b"), ("m1", "b")]
    summary = universality_summary(table)
    assert summary["members_learning"] == {"b": 2, "a": 1}
    assert summary["members_learning_first"] == {"b": 2}


def four_seeds(repo: Path) -> None:
    """The example sweep cut to its first four seeds (each member is ~16 jobs; four are
    enough to compare members), with the pipeline files generated again."""
    path = repo / "params/experiments/sweep_s4.yaml"
    text = path.read_text()
    assert "seed: [0, 1, 2, 3, 4, 5, 6, 7]" in text
    path.write_text(text.replace("seed: [0, 1, 2, 3, 4, 5, 6, 7]", "seed: [0, 1, 2, 3]"))
    run("grokscope dvc-yaml && git add -A && git commit -qm 'four seeds'", repo)


@pytest.mark.slow
def test_a_seed_sweep_through_the_pipeline(tmp_path):
    repo = make_repo(tmp_path / "repo", ["sweep_s4"])
    four_seeds(repo)
    stages = dvcfiles.stages(repo)
    train = stages["train-sweep_s4"]  # one stage runs the sweep's four training jobs
    assert dvcfiles.address("train-sweep_s4", repo) == "pipelines/sweep_s4/dvc.yaml:train-sweep_s4"
    assert unreached_by_dvc_repro(repo) == set()  # `dvc repro` builds the sweep too
    assert train["params"] == [
        {"params/experiments/sweep_s4.yaml": ["group", "model", "seed", "sweep", "train"]}
    ]
    run(
        "snakemake --cores 2 results/sweep_s4/figures/universality results/sweep_s4/headline.json",
        repo,
    )
    figures = repo / "results/sweep_s4/figures/universality"
    assert {p.name for p in figures.glob("*.png")} == {
        "universality_learned.png",
        "universality_counts.png",
    }
    table = pd.read_parquet(repo / "results/sweep_s4/universality.parquet")
    assert sorted(table["member"].unique()) == [f"sweep_s4-seed{s}" for s in range(4)]
    partitions = {"[4]", "[3, 1]", "[2, 2]", "[2, 1, 1]", "[1, 1, 1, 1]"}
    assert set(table["irrep"]) <= partitions
    summary = yaml.safe_load((repo / "results/sweep_s4/universality.json").read_text())
    assert all(summary["key_irreps_by_member"][f"sweep_s4-seed{s}"] for s in range(4))
    for member in summary["key_irreps_by_member"]:
        final = yaml.safe_load((repo / f"results/{member}/train/final.json").read_text())
        assert final["test_acc"] > 0.99, member
    # The sweep's headline (its one DVC metrics file), from the members' own headlines.
    headline = yaml.safe_load((repo / "results/sweep_s4/headline.json").read_text())
    assert headline["members"] == 4 and headline["grokked_members"] == 4
    assert headline["test_acc_min"] > 0.99 and headline["grokked_epoch_median"] > 0
    counts = [int(n) for n in re.findall(r" (\d+)/4", headline["key_irreps"])]
    assert counts == sorted(summary["members_learning"].values(), reverse=True)
    assert headline["learned_first"].endswith("/4")
    metrics = [m for s in stages.values() for m in s.get("metrics", [])]
    assert metrics == ["results/sweep_s4/headline.json"]  # the members' are plain outputs


BATCHED = """\
seed: 0
batched: true
sweep:
  seed: [0, 1, 2]
group: {name: cyclic, n: 13}
data: {frac_train: 0.6, split: seeded}
model: {kind: mlp, embed_dim: 8, hidden_dim: 16}
train: {epochs: 100, lr: 0.01, weight_decay: 1.0, betas: [0.9, 0.98], warmup_steps: 10,
        eval_every: 50, checkpoint_every: 50, log_checkpoints: 2, device: auto}
"""


@pytest.mark.slow
def test_batched_sweep_is_one_job_with_the_outputs_of_single_runs(tmp_path):
    from safetensors.torch import load_file

    outputs = {}
    for batched in (True, False):
        repo = tmp_path / ("batched" if batched else "single")
        text = BATCHED if batched else BATCHED.replace("batched: true\n", "")
        make_repo(repo, ["tiny_c41"])
        (repo / "params/experiments/bsweep.yaml").write_text(text)
        (repo / "params/suite.yaml").write_text("experiments: [bsweep]\n")
        run("grokscope dvc-yaml", repo)
        stages = dvcfiles.stages(repo)
        assert ("train_batched_bsweep" in stages) == batched
        targets = " ".join(f"results/bsweep-seed{s}/train/final.json" for s in range(3))
        log = run(f"snakemake --cores 1 {targets}", repo).stderr
        assert log.count("rule train_batched_bsweep") == (1 if batched else 0)
        outputs[batched] = {
            s: load_file(
                repo / f"results/bsweep-seed{s}/train/checkpoints/epoch_0000100.safetensors"
            )
            for s in range(3)
        }
    for s in range(3):
        for name, tensor in outputs[True][s].items():
            assert (tensor - outputs[False][s][name]).abs().max() < 1e-5, (s, name)
