"""The notebook API, ``grokscope.open_run``: every kind of artifact of a built run (the tiny
experiment, built once per session), read the way a notebook reads it, and the one clear
error for a run that is not built."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
import torch
from repo_utils import TINY, copy_repo
from safetensors.torch import load_file

import grokscope
from grokscope.activations import ActivationCache
from grokscope.errors import ArtifactError
from grokscope.explore import Run
from grokscope.hooks import HookedModule
from grokscope.io import read_json, read_parquet
from grokscope.layout import FIGURE_INPUTS
from grokscope.params import default_figure_style, load_figure_style, validate
from grokscope.plots.render import script_src

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def opened(tiny_build: Path) -> Run:
    return grokscope.open_run(f"results/{TINY}", root=tiny_build)


# --- a run that is not built -----------------------------------------------------------------


def one_line_error(path: str | Path, root: Path) -> str:
    with pytest.raises(ArtifactError) as err:
        grokscope.open_run(path, root=root)
    message = str(err.value)
    assert "\n" not in message
    assert "snakemake --cores all" in message and "grokscope pull" in message, message
    return message


def test_a_missing_run_names_the_path_and_how_to_build_or_pull_it(tmp_path: Path):
    message = one_line_error("mlp_d53", tmp_path)
    assert message.startswith(f"{tmp_path / 'results/mlp_d53'}: no such run directory")
    assert "list `mlp_d53` in params/suite.yaml" in message
    message = one_line_error("results/mlp_d53", tmp_path)
    assert message.startswith(f"{tmp_path / 'results/mlp_d53'}: no such run directory")


def test_a_run_without_its_training_outputs_names_the_missing_one(tmp_path: Path):
    run_dir = tmp_path / "results/half"
    (run_dir / "data").mkdir(parents=True)  # e.g. the dataset step ran, training did not
    message = one_line_error("half", tmp_path)
    assert message.startswith(f"{run_dir}: run not built ({run_dir / 'train/checkpoints'} is")
    (run_dir / "train/checkpoints").mkdir(parents=True)
    (run_dir / "train/metrics.csv").write_text("epoch\n")
    message = one_line_error("half", tmp_path)
    assert f"({run_dir / 'train/final.json'} is missing)" in message
    (run_dir / "train/final.json").write_text("{}")
    message = one_line_error(run_dir, tmp_path)  # an absolute path; no checkpoint in it
    assert "train/checkpoints/*.safetensors is missing" in message


def test_a_sweeps_directory_says_to_open_one_of_its_members(tmp_path: Path):
    for name in ["sweep_s4", *(f"sweep_s4-seed{i}" for i in range(8))]:
        (tmp_path / "results" / name).mkdir(parents=True)
    (tmp_path / "results/sweep_s4/universality.json").write_text("{}")
    members = r"\(sweep_s4-seed0, sweep_s4-seed1, sweep_s4-seed2, …\)"
    with pytest.raises(ArtifactError, match=rf"sweep_s4: a sweep's directory .* {members}"):
        grokscope.open_run("sweep_s4", root=tmp_path)


def test_the_default_figure_style_is_a_complete_valid_style():
    style = default_figure_style()
    assert validate(style, "figures", "schema defaults") == style


# --- a built run -------------------------------------------------------------------------------


@slow
def test_open_run_by_path_by_name_and_from_a_subdirectory(tiny_build: Path, monkeypatch):
    expected = (tiny_build / "results" / TINY).resolve()
    assert grokscope.open_run(TINY, root=tiny_build).path == expected
    assert grokscope.open_run(expected).path == expected
    monkeypatch.chdir(tiny_build / "workflow")  # a notebook's directory inside the project
    assert grokscope.open_run(TINY).path == expected
    assert grokscope.open_run(f"results/{TINY}").path == expected


@slow
def test_params_come_from_the_checkpoint_whatever_the_params_files_say_now(tiny_build, tmp_path):
    repo = copy_repo(tiny_build, tmp_path / "repo")
    (repo / f"params/experiments/{TINY}.yaml").unlink()  # changed or gone since the build
    opened = grokscope.open_run(TINY, root=repo)
    sidecar = read_json(repo / f"results/{TINY}/train/checkpoints/epoch_0002500.json")
    assert opened.params == sidecar["params"]
    assert opened.params["model"] == {"kind": "mlp", "embed_dim": 32, "hidden_dim": 64}
    assert opened.group.symbol == "C_41" and opened.group.order == sidecar["order"]
    assert opened.basis.basis.shape == (41, 41) and opened.basis.labels[:3] == (
        "Const",
        "cos 1",
        "sin 1",
    )
    assert opened.all_pairs.shape == (41 * 41, 3)
    assert "C_41" in repr(opened) and "10 checkpoints" in repr(opened)


@slow
def test_models_load_lazily_at_any_checkpoint_with_hooks(opened: Run, tiny_build: Path):
    assert opened.epochs == [0, 1, 5, 22, 106, 500, 1000, 1500, 2000, 2500]
    fresh = grokscope.open_run(opened.path)
    assert fresh._models == {}  # nothing loaded by opening
    model = fresh.model(500)
    assert isinstance(model, HookedModule) and not model.training
    assert fresh.model(500) is model and list(fresh._models) == [500]
    weights = load_file(opened.path / "train/checkpoints/epoch_0000500.safetensors")
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, weights[name]), name
    # The final model reproduces the cached activations and the final test accuracy.
    logits, cache = fresh.model().run_with_cache(fresh.all_pairs[:, :2])
    hidden = cache[model.neuron_hook].reshape(41, 41, -1).numpy()
    assert np.allclose(hidden, fresh.activations.read("neurons"), atol=1e-5)
    test = torch.tensor((fresh.pairs["split"] == "test").to_numpy())
    accuracy = (logits.argmax(1) == fresh.all_pairs[:, 2])[test].double().mean().item()
    assert accuracy == pytest.approx(fresh.metrics["final"]["test_acc"])
    with pytest.raises(ArtifactError, match=r"no checkpoint at epoch 7; have \[0, 1, 5"):
        fresh.model(7)


@slow
def test_training_metrics_and_the_dataset(opened: Run):
    assert list(opened.curves.columns[:5]) == [
        "epoch",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    ]
    last = opened.curves.iloc[-1]
    final = opened.metrics["final"]
    assert last["epoch"] == final["epoch"] == 2500
    assert last["test_loss"] == pytest.approx(final["test_loss"])
    assert final["grokked_epoch"] is not None
    assert opened.pairs["split"].value_counts().to_dict() == {"train": 840, "test": 841}


@slow
def test_every_analysis_table_and_metrics_file_by_name_read_when_asked(opened: Run):
    fresh = grokscope.open_run(opened.path)
    analysis = opened.path / "analysis"
    assert list(fresh.tables) == sorted(p.stem for p in analysis.glob("*.parquet"))
    assert set(fresh.metrics) == {p.stem for p in analysis.glob("*.json")} | {"final", "headline"}
    assert {"neuron_clusters", "ablations", "progress", "neuron_phases"} <= set(fresh.tables)
    assert "read so far: []" in repr(fresh.tables)
    clusters = fresh.tables["neuron_clusters"]
    pd.testing.assert_frame_equal(clusters, read_parquet(analysis / "neuron_clusters.parquet"))
    assert fresh.tables["neuron_clusters"] is clusters  # read once
    assert "read so far: ['neuron_clusters']" in repr(fresh.tables)
    assert fresh.metrics["key_irreps"] == read_json(analysis / "key_irreps.json")
    assert isinstance(fresh.tables["ablations"], pd.DataFrame)  # both kinds, one name
    assert isinstance(fresh.metrics["ablations"], dict)
    with pytest.raises(KeyError, match="not in this run; it has"):
        fresh.tables["no_such_table"]


@slow
def test_cached_activations_as_pandas_and_pyarrow_only_what_is_asked(opened: Run):
    files = opened.activation_files
    cache = ActivationCache(opened.path / "activations")
    assert (
        set(files["hook"]) == set(cache.hooks) == {"mlp.hook_pre", "mlp.hook_post", "hook_logits"}
    )
    assert (files["rows"] == 41 * 41).all() and (files["megabytes"] > 0).all()
    assert files.set_index("hook").loc["hook_logits", "units"] == 41

    table = opened.activation("neurons", units=[3, 5])
    assert list(table.columns) == ["a", "b", "c", "3", "5"]
    values = table[["3", "5"]].to_numpy().reshape(41, 41, 2)
    assert np.array_equal(values, cache.read("neurons", units=[3, 5]))
    dataset = opened.activation_dataset("logits", epoch=2500)
    assert dataset.schema.names[:4] == ["a", "b", "c", "0"]
    column = dataset.to_table(columns=["7"]).column("7").to_numpy()
    assert np.array_equal(column.reshape(41, 41), cache.read("logits", units=[7])[:, :, 0])
    with pytest.raises(ArtifactError, match="was not cached at epoch 500"):
        opened.activation("neurons", epoch=500)


@slow
def test_figures_are_the_pipelines_figures(opened: Run, tiny_build: Path):
    assert opened.style == load_figure_style(tiny_build / "params/figures.yaml")
    shared = tiny_build / "results/assets/plotly.min.js"
    assert opened.figure_jobs == [
        "training", "progress", "fourier", "neurons", "logits", "over_training", "cyclic"
    ]  # fmt: skip
    for job in opened.figure_jobs:
        directory = opened.path / "figures" / job
        figures = opened.figures(job)
        assert set(figures) == {p.stem for p in directory.glob("*.html")}, job
        for name, fig in figures.items():
            # The same page, byte for byte, as the pipeline wrote.
            html = pio.to_html(fig, include_plotlyjs=script_src(shared, directory), div_id=name)
            assert html == (directory / f"{name}.html").read_text(encoding="utf-8"), name
    assert opened.figures("training", width=640)["loss"].layout.width == 640
    with pytest.raises(KeyError, match="not a figure job of this run"):
        opened.figures("universality")


@slow
def test_results_copied_alone_open_with_the_default_style(opened: Run, tmp_path: Path):
    copy = shutil.copytree(opened.path, tmp_path / "elsewhere" / TINY)
    alone = grokscope.open_run(copy)
    assert alone.style == default_figure_style() and alone.params == opened.params
    assert alone.figures("training")["loss"].layout.width == default_figure_style()["width"]
    (copy / "analysis/neuron_phases.parquet").unlink()
    with pytest.raises(ArtifactError, match=r"analysis/neuron_phases.parquet: not built; build"):
        alone.figures("cyclic")
    shutil.rmtree(copy / "activations")
    with pytest.raises(ArtifactError, match=r"activations: not built; build"):
        alone.activation_files  # noqa: B018 (a property that reads)


@slow
def test_figure_inputs_are_the_rules_inputs(tiny_build: Path, monkeypatch):
    from grokscope.dag import workflow_dag

    monkeypatch.chdir(tiny_build)
    with workflow_dag(Path("Snakefile")) as workflow:
        rules = {
            job.rule.name.removeprefix("figure_"): dict(job.input._allitems())
            for job in workflow.dag.jobs
            if job.rule.name.startswith("figure_")
        }
    assert set(rules) == set(FIGURE_INPUTS)
    for job, inputs in rules.items():
        assert inputs.pop("plotly") == "results/assets/plotly.min.js"
        expected = {name: f"results/{TINY}/{rel}" for name, rel in FIGURE_INPUTS[job].items()}
        assert {name: str(path) for name, path in inputs.items()} == expected, job
