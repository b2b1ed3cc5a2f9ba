"""Every figure job, rendered by the real pipeline for the tiny experiments.

A copy of the test run's tiny build (the tiny cyclic experiment) adds a tiny non-cyclic one
(dihedral D_6, a few hundred epochs: it need not grok) and builds it with
``snakemake --cores 2``; add e.g. ``"tiny_s3": ("symmetric", 3)`` to ``NON_CYCLIC`` to cover
another group (each costs about a minute). The tests check every figure of every job (real
PNGs of the configured size, HTML with its plot), that every page loads the suite's one
offline plotly.js (one DVC output) by a relative path, that non-cyclic groups get every
figure but the cyclic ones, that ``snakemake --report`` collects the PNGs, and that a figure
setting changed in ``params/`` makes ``dvc repro`` re-render figures (and the report) only.
The built repo is shared with tests/test_report_browser.py.
"""

from __future__ import annotations

import re
import struct
import zipfile
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
import yaml
from repo_utils import ROOT, TINY, copy_repo, run, set_value, shared_build

from grokscope import dvcfiles
from grokscope.neurons import select_neurons

slow = pytest.mark.slow

# Tiny non-cyclic experiments: tiny_c41's settings with another group and a short run.
NON_CYCLIC = {"tiny_d6": ("dihedral", 6)}
EXPERIMENTS = [TINY, *NON_CYCLIC]
FIGURES = {
    "training": {"training_curves", "loss", "accuracy"},
    "progress": {"progress_losses", "progress_measures"},
    "fourier": {
        "fourier_basis",
        "embedding_norms",
        "unembedding_norms",
        "irrep_scores",
        "embedding_dimensions",
    },
    "neurons": {
        "hidden_activations",
        "hidden_fourier",
        "output_activations",
        "fourier_mean_neurons",
        "fourier_mean_logits",
        "neuron_fractions",
        "cluster_sizes",
    },
    "logits": {
        "readout_by_cluster",
        "logit_directions",
        "logit_fit",
        "ablations",
        "ablations_by_irrep",
        "logit_components_ab",
        "key_irrep_rules",
        "key_irrep_search",
    },
    "over_training": {
        "embedding_shares_over_training",
        "clusters_over_training",
        "logit_similarity_over_training",
        "logit_fit_over_training",
    },
    # The tiny cyclic experiment is an MLP: no attention, no residual stream, ReLU neurons.
    "cyclic": {
        "relu_harmonics",
        "frequency_ablations",
        "neuron_phases",
        "resid_by_c_a",
        "preactivations_by_phase",
        "running_sums",
        "running_sums_ideal",
        "running_sums_seed_mock",
        "ideal_preactivations",
        "handmade_wave",
        "ideal_cosines",
        "frequency_output",
        "one_frequency_kept",
    },
}


def non_cyclic_params(name: str, n: int) -> str:
    """tiny_c41's params file with another group and a short run."""
    text = (ROOT / f"params/experiments/{TINY}.yaml").read_text()
    for key, value in [
        ("name", name),
        ("n", str(n)),
        ("epochs", "300"),
        ("eval_every", "50"),
        ("checkpoint_every", "100"),
        ("log_checkpoints", "2"),
    ]:
        text, count = re.subn(rf"^(\s*{key}:\s*)\S+", rf"\g<1>{value}", text, count=1, flags=re.M)
        assert count == 1, key
    return text


def test_selected_neurons_are_deterministic_first_clean_of_largest_clusters():
    clusters = pd.DataFrame(
        {
            "neuron": range(6),
            "irrep": ["freq 2", "freq 5", "freq 2", "freq 5", "dead", "freq 7"],
            "fraction": [0.5, 0.9, 0.95, 0.99, float("nan"), 0.6],
            "clean": [False, True, True, True, False, False],
        }
    )
    sizes = pd.DataFrame(
        {
            "irrep": ["freq 2", "freq 5", "dead", "freq 7"],
            "neurons": [2, 2, 1, 1],
            "clean": [1, 2, 0, 0],
        }
    )
    assert select_neurons(clusters, sizes, 2) == [2, 1]
    # Clusters without clean neurons are filled in by fraction explained; dead ones last.
    assert select_neurons(clusters, sizes, 4) == [2, 1, 3, 5]
    assert select_neurons(clusters, sizes, 6) == [2, 1, 3, 5, 0, 4]


def build_figures_repo(tiny_build: Path, repo: Path) -> None:
    """A copy of the tiny build with the non-cyclic experiments added and built."""
    copy_repo(tiny_build, repo)
    for exp, (name, n) in NON_CYCLIC.items():
        (repo / f"params/experiments/{exp}.yaml").write_text(non_cyclic_params(name, n))
    suite = "".join(f"  - {exp}\n" for exp in EXPERIMENTS)
    (repo / "params/suite.yaml").write_text(f"experiments:\n{suite}")
    run("grokscope dvc-yaml && git add -A && git commit -qm 'non-cyclic experiments'", repo)
    run("snakemake --cores 2", repo)


def figures_repo(run_temp: Path, tiny_build: Path) -> Path:
    """The repo with every tiny experiment built, once per test run (shared with
    tests/test_report_browser.py and between workers: do not change it)."""
    return shared_build(run_temp, "figures-build", partial(build_figures_repo, tiny_build))


@pytest.fixture(scope="module")
def repo(run_temp: Path, tiny_build: Path) -> Path:
    return figures_repo(run_temp, tiny_build)


def png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from a PNG's IHDR chunk; fails unless the file is a complete PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: no IHDR chunk"
    assert data[-8:-4] == b"IEND", f"{path}: truncated PNG"
    return struct.unpack(">II", data[16:24])


def style(repo: Path) -> dict:
    return yaml.safe_load((repo / "params/figures.yaml").read_text())


@slow
@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_every_figure_is_a_real_png_and_an_offline_html_page(repo: Path, exp: str):
    s = style(repo)
    size = (round(s["width"] * s["scale"]), round(s["height"] * s["scale"]))
    jobs = {job: names for job, names in FIGURES.items() if job != "cyclic" or exp == TINY}
    base = repo / "results" / exp / "figures"
    shared = repo / "results/assets/plotly.min.js"
    assert {p.name for p in base.iterdir() if p.is_dir()} == set(jobs)
    for job, names in jobs.items():
        directory = base / job
        assert {p.stem for p in directory.glob("*.png")} == names, job
        assert {p.stem for p in directory.glob("*.html")} == names, job
        assert not list(directory.glob("*.js")), job  # no copy of plotly.js per directory
        for name in names:
            assert png_size(directory / f"{name}.png") == size, f"{job}/{name}"
            page = (directory / f"{name}.html").read_text()
            assert f'id="{name}"' in page and "Plotly.newPlot" in page, name
            # One script from a file: the shared plotly.js, by a path relative to the page.
            sources = re.findall(r'<script[^>]+src="([^"]*)"', page)
            assert sources == ["../../../assets/plotly.min.js"], (name, sources)
            assert (directory / sources[0]).resolve() == shared.resolve(), name


@slow
def test_one_shared_offline_copy_of_plotly_js_for_every_figure(repo: Path):
    from plotly.offline import get_plotlyjs

    scripts = sorted(p.relative_to(repo) for p in (repo / "results").rglob("*.js"))
    assert scripts == [Path("results/assets/plotly.min.js")]
    # The whole bundle of the installed plotly (no CDN loader), as plotly itself embeds it.
    assert (repo / scripts[0]).read_text(encoding="utf-8") == get_plotlyjs()
    stages = dvcfiles.stages(repo)
    owners = [n for n, s in stages.items() if "results/assets/plotly.min.js" in s.get("outs", [])]
    assert owners == ["assets"]
    for name, stage in stages.items():
        if name.startswith("figure_"):
            assert "results/assets/plotly.min.js" in stage["deps"], name


@slow
def test_non_cyclic_figures_are_labelled_by_irrep(repo: Path):
    page = (repo / "results/tiny_d6/figures/fourier/embedding_norms.html").read_text()
    assert "rot 1 [00]" in page and "cos 1" not in page
    page = (repo / "results/tiny_d6/figures/neurons/cluster_sizes.html").read_text()
    assert "rot 1" in page and "freq" not in page


@slow
def test_snakemake_report_collects_every_png(repo: Path, tmp_path: Path):
    run(f"snakemake --report {tmp_path / 'report.zip'} --cores 1", repo)
    with zipfile.ZipFile(tmp_path / "report.zip") as z:
        pngs = {Path(n).name for n in z.namelist() if n.endswith(".png")}
    expected = {f"{name}.png" for names in FIGURES.values() for name in names}
    assert expected <= pngs


@slow
def test_figure_setting_rerenders_figures_and_report_only(tiny_build: Path, tmp_path: Path):
    repo = copy_repo(tiny_build, tmp_path / "repo")  # one experiment's figure stages
    set_value(repo / "params/figures.yaml", "width", "640")
    out = run("dvc repro", repo).stdout
    ran = {dvcfiles.stage_name(s) for s in re.findall(r"Running stage '([^']+)'", out)}
    stages = set(dvcfiles.stages(repo))
    figure_stages = {s for s in stages if s.startswith("figure_")} | {"report"}
    assert ran == figure_stages, out
    height = style(repo)["height"]
    assert png_size(repo / f"results/{TINY}/figures/neurons/cluster_sizes.png") == (640, height)
    assert "Nothing to be done" in run("snakemake -n --cores 1", repo).stdout
