"""The analysis pipeline steps: read artifacts, call the pure analyses, write tables and metrics.

Each ``step_*`` function is one Snakemake rule (via ``grokscope analyse <step>``). All I/O of
the analyses lives here; :mod:`fourier`, :mod:`neurons`, :mod:`logits` and :mod:`cyclic`
only see tensors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from grokscope.ablations import (
    exclude,
    keep_block,
    logit_transform,
    logits_with_neurons,
    neuron_values,
    product_basis,
    remove_frequencies,
    restrict,
    split_losses,
)
from grokscope.activations import (
    activation_table,
    hook_aliases,
    read_activation,
    resolve_hooks,
)
from grokscope.checkpoints import list_checkpoints, load_checkpoint
from grokscope.cyclic import (
    by_c_and_a,
    frequency_of,
    half_c_symmetry,
    harmonics,
    neuron_phases,
    sum_difference_frequencies,
)
from grokscope.data import all_pairs
from grokscope.fourier import (
    basis_norms,
    choose_key_irreps,
    combined_shares,
    embedding_matrices,
    embedding_shares,
    fourier_2d_table,
    irrep_norms,
    mean_fourier_norms,
    neuron_readout,
    weights_table,
)
from grokscope.groups import Group, make_group
from grokscope.hooks import HookedModule
from grokscope.io import (
    ArtifactError,
    read_json,
    read_parquet,
    write_json,
    write_parquet,
    write_text,
)
from grokscope.logits import logit_fve, output_direction_components
from grokscope.models import build_model
from grokscope.neurons import cluster_neurons, cluster_sizes, irrep_fractions, variance_shares
from grokscope.progress import phase_boundaries
from grokscope.representations import FourierBasis, fourier_basis
from grokscope.train import loss_and_accuracy, pick_device
from grokscope.universality import SHARE_PREFIX, universality_summary, universality_table

Paths = dict[str, Path]


def load_model(checkpoint: Path) -> tuple[HookedModule, dict[str, Any]]:
    """Model with a checkpoint's weights, rebuilt from its sidecar; ``(model, sidecar)``."""
    state, sidecar = load_checkpoint(checkpoint)
    params = sidecar["params"]
    model = build_model(params["model"], sidecar["order"], params["seed"])
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ArtifactError(f"{checkpoint}: weights do not fit the model ({first})") from None
    return model.eval(), sidecar


def group_of(meta: dict[str, Any]) -> Group:
    return make_group(meta["group"]["name"], meta["group"]["n"])


def select_checkpoints(directory: Path, which: str | list[int]) -> list[Path]:
    """``final``, ``all`` or a list of epochs → checkpoint paths (the final one always)."""
    paths = list_checkpoints(directory)
    if not paths:
        raise ArtifactError(f"{directory}: no checkpoints")
    if which == "all":
        return paths
    epochs = {int(re.findall(r"\d+", p.stem)[0]): p for p in paths}
    wanted = set() if which == "final" else set(which)
    missing = sorted(wanted - set(epochs))
    if missing:
        raise ArtifactError(f"{directory}: no checkpoints for epochs {missing}")
    return sorted({epochs[e] for e in wanted} | {paths[-1]})


def step_cache(inputs: Paths, settings: dict[str, Any], outputs: Paths) -> None:
    """Write ``activations/<hook>/epoch_*.parquet`` for the chosen checkpoints and hooks.

    inputs: ``checkpoints``; settings: params/analysis.yaml ``cache`` (hooks, checkpoints).
    """
    out_dir, settings = outputs["activations"], settings["cache"]
    device = pick_device("auto")  # the GPU a cluster job was given, else the CPU
    for path in select_checkpoints(inputs["checkpoints"], settings["checkpoints"]):
        model, sidecar = load_model(path)
        params = sidecar["params"]
        group = group_of(params)
        names = resolve_hooks(model, settings["hooks"])
        pairs = all_pairs(group)[:, :2].to(device)
        _, cache = model.to(device).run_with_cache(pairs, names)
        aliases = {k: v for k, v in hook_aliases(model).items() if v in names}
        for name in names:
            meta = {
                "group": params["group"],
                "model": params["model"],
                "checkpoint": path.name,
                "epoch": sidecar["epoch"],
                "hook": name,
                "unit_shape": list(cache[name].shape[1:]),
            }
            df = activation_table(group, cache[name])
            write_parquet(out_dir / name / f"{path.stem}.parquet", df, meta)
    # Which hook each alias resolved to, so analyses can ask for "neurons" of any model.
    write_json(out_dir / "hooks.json", {"aliases": aliases, "hooks": names})


def final_activation(activations: Path, hook: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """The last checkpoint's cached activation of ``hook`` (a name or an alias such as
    ``neurons``), at the answer position.

    Returns ``(values, meta)`` with ``values``: ``(order, order, units)``.
    """
    hook = read_json(activations / "hooks.json")["aliases"].get(hook, hook)
    files = sorted((activations / hook).glob("epoch_*.parquet"))
    if not files:
        raise ArtifactError(f"{activations / hook}: no cached activations (is it in cache.hooks?)")
    values, meta = read_activation(files[-1])
    order = group_of(meta).order
    if values.ndim == 3:  # transformer (batch, pos, units): the '=' position reaches the logits
        values = values[:, -1]
    return values.reshape(order, order, -1), meta


def _key_irreps(fb: FourierBasis, key_json: Path) -> list:
    labels = read_json(key_json)["key_irreps"]
    by_label = {irrep.label: irrep for irrep in fb.irreps}
    return [by_label[label] for label in labels]


def step_key_irreps(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """(Un)embedding norms per basis function and irrep; the key irreps.

    An irrep's score is the geometric mean of its share of the input embeddings' norm and
    its share of the hidden neurons' centred variance; the rule picks from the scores.
    inputs: ``checkpoints``, ``activations``; settings: params/analysis.yaml ``key_irreps``.
    """
    rule = settings["key_irreps"]
    (path,) = select_checkpoints(inputs["checkpoints"], "final")
    state, sidecar = load_checkpoint(path)
    params = sidecar["params"]
    fb = fourier_basis(group_of(params))
    matrices = embedding_matrices(params["model"]["kind"], state, fb.group.order)
    norms = basis_norms(matrices, fb)
    irreps = irrep_norms(norms, fb)
    embedding = embedding_shares(irreps)
    neurons, _ = final_activation(inputs["activations"], "neurons")
    labels = [irrep.label for irrep in fb.irreps]
    neuron = pd.Series(variance_shares(neurons, fb).numpy(), index=labels).iloc[1:]
    scores = combined_shares(embedding, neuron)
    keys, reason = choose_key_irreps(scores, rule)
    irreps["neuron_share"] = irreps["irrep"].map(neuron)
    irreps["score"] = irreps["irrep"].map(scores)
    write_parquet(out["basis_norms"], norms)
    write_parquet(out["irrep_norms"], irreps)
    write_parquet(out["weights"], weights_table(matrices, fb))
    write_json(
        out["metrics"],
        {
            "checkpoint": path.name,
            "key_irreps": keys,
            "rule": rule["rule"],
            "reason": reason,
            "key_embedding_share": float(embedding[keys].sum()),
            "key_neuron_share": float(neuron[keys].sum()),
            "scores": {label: round(float(v), 6) for label, v in scores.items()},
        },
    )


def step_neurons(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Neuron clustering, the mean 2-D Fourier norms of neurons and logits, and each
    cluster's readout (neurons → logits) per output basis function.

    inputs: ``checkpoints``, ``activations``, ``key_irreps``; settings: params/analysis.yaml
    ``neurons``.
    """
    activations, key_json = inputs["activations"], inputs["key_irreps"]
    threshold = settings["neurons"]["clean_threshold"]
    neurons, meta = final_activation(activations, "neurons")
    fb = fourier_basis(group_of(meta))
    fractions = irrep_fractions(neurons, fb)
    clusters = cluster_neurons(fractions, fb, threshold)
    sizes = cluster_sizes(clusters)
    labels = [irrep.label for irrep in fb.irreps]
    wide = pd.DataFrame(fractions.numpy(), columns=labels).assign(neuron=range(len(fractions)))
    logits, _ = final_activation(activations, "logits")
    mean_norms = fourier_2d_table(mean_fourier_norms(neurons, fb), fb, "neurons")
    mean_norms["logits"] = fourier_2d_table(mean_fourier_norms(logits, fb), fb, "logits")["logits"]
    keys = read_json(key_json)["key_irreps"]
    alive = clusters[clusters["irrep"] != "dead"]
    (path,) = select_checkpoints(inputs["checkpoints"], "final")
    state, sidecar = load_checkpoint(path)
    readout = neuron_readout(sidecar["params"]["model"]["kind"], state).double()
    frames = []
    for label, members in alive.groupby("irrep")["neuron"]:
        norms = (readout[torch.tensor(members.to_numpy())] @ fb.basis64.T).pow(2).sum(dim=0)
        frames.append(
            pd.DataFrame(
                {
                    "irrep": label,
                    "basis_index": range(len(norms)),
                    "basis_label": fb.labels,
                    "norm": norms.numpy(),
                }
            )
        )
    write_parquet(out["readout"], pd.concat(frames, ignore_index=True))
    write_parquet(out["clusters"], clusters.merge(wide, on="neuron"))
    write_parquet(out["sizes"], sizes)
    write_parquet(out["fourier_mean"], mean_norms)
    write_json(
        out["metrics"],
        {
            "neurons": len(clusters),
            "dead": int((clusters["irrep"] == "dead").sum()),
            "clean_threshold": threshold,
            "clean_fraction": float(clusters["clean"].mean()),
            "in_key_irreps": float(alive["irrep"].isin(keys).mean()) if len(alive) else 0.0,
            "cluster_sizes": {r.irrep: int(r.neurons) for r in sizes.itertuples()},
            "clean_cluster_sizes": {r.irrep: int(r.clean) for r in sizes.itertuples() if r.clean},
        },
    )


def step_logits(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Logit FVE by the key irreps' characters and the output-direction components.

    inputs: ``activations``, ``key_irreps``; no settings.
    """
    activations, key_json = inputs["activations"], inputs["key_irreps"]
    logits, meta = final_activation(activations, "logits")
    fb = fourier_basis(group_of(meta))
    keys = _key_irreps(fb, key_json)
    flat = logits.reshape(-1, fb.group.order)
    write_parquet(out["directions"], output_direction_components(flat, fb, keys))
    write_json(out["metrics"], logit_fve(flat, fb, keys))


def step_cyclic(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Seed 004's views for cyclic groups: harmonics, neuron phases, residual symmetry.

    inputs: ``checkpoints``, ``activations``, ``key_irreps``; settings: params/analysis.yaml
    ``cyclic``.
    """
    activations, key_json = inputs["activations"], inputs["key_irreps"]
    aliases = read_json(activations / "hooks.json")["aliases"]
    # The bilinear net has no nonlinearity: its "pre-activations" are its products.
    pre, meta = final_activation(
        activations, "neurons_pre" if "neurons_pre" in aliases else "neurons"
    )
    group = group_of(meta)
    if group.name != "cyclic":
        raise ArtifactError(f"{activations}: cyclic views need a cyclic group, not {group.symbol}")
    fb = fourier_basis(group)
    n, keys = group.order, read_json(key_json)["key_irreps"]
    key_freqs = [frequency_of(k) for k in keys]
    neurons, _ = final_activation(activations, "neurons")
    clusters = cluster_neurons(irrep_fractions(neurons, fb), fb, 0.0)
    freqs = [frequency_of(r) if r.startswith("freq") else 0 for r in clusters["irrep"]]
    phases = neuron_phases(pre, fb, freqs)
    (path,) = select_checkpoints(inputs["checkpoints"], "final")
    state, sidecar = load_checkpoint(path)
    readout = neuron_readout(sidecar["params"]["model"]["kind"], state).double()
    # Each neuron's weight onto the cos/sin output direction of its own frequency.
    for part in ("cos", "sin"):
        phases[f"readout_{part}"] = [
            float(readout[i] @ fb.basis64[fb.labels.index(f"{part} {k}")])
            if k and 2 * k != n
            else float("nan")
            for i, k in enumerate(freqs)
        ]
    metrics: dict[str, Any] = {
        "key_frequencies": key_freqs,
        "sum_difference_frequencies": sum_difference_frequencies(key_freqs, n),
    }
    c = torch.arange(n).repeat_interleave(n)
    a = torch.arange(n).repeat(n)
    resid_table = pd.DataFrame({"c": c.numpy(), "a": a.numpy(), "b": ((c - a) % n).numpy()})
    if "resid" in aliases:
        resid, _ = final_activation(activations, "resid")
        reordered = by_c_and_a(resid)  # (c, a, d_model)
        metrics["resid_half_c_symmetry"] = half_c_symmetry(reordered)
        units = pd.DataFrame(reordered.reshape(n * n, -1).numpy())
        resid_table = pd.concat([resid_table, units.rename(columns=str)], axis=1)
    write_parquet(out["resid"], resid_table)
    write_parquet(out["harmonics"], harmonics(key_freqs, n, settings["cyclic"]["max_harmonic"]))
    write_parquet(out["phases"], phases)
    write_json(out["metrics"], metrics)


@dataclass
class Setup:
    """What the ablation and progress steps share: a checkpoint's model over all pairs."""

    model: HookedModule
    sidecar: dict[str, Any]
    fb: FourierBasis
    pairs: torch.Tensor  # (order², 2) row-major
    labels: torch.Tensor  # (order²,)
    is_train: torch.Tensor  # (order²,) bool

    @classmethod
    def load(cls, checkpoint: Path, data: Path) -> Setup:
        model, sidecar = load_model(checkpoint)
        group = group_of(sidecar["params"])
        dataset = read_parquet(data)
        return cls(
            model=model,
            sidecar=sidecar,
            fb=fourier_basis(group),
            pairs=all_pairs(group)[:, :2],
            labels=torch.tensor(dataset["c"].to_numpy(), dtype=torch.int64),
            is_train=torch.tensor((dataset["split"] == "train").to_numpy()),
        )

    def row(self, ablation: str, target: str, logits: torch.Tensor) -> dict[str, Any]:
        """One ablation-table row: losses and accuracies of ``logits`` on both splits."""
        return {
            "ablation": ablation,
            "target": target,
            **split_losses(logits, self.labels, self.is_train),
        }

    def with_neurons(self, neurons: torch.Tensor) -> torch.Tensor:
        """Logits with the neuron activation replaced by ``neurons`` (order, order, units)."""
        return logits_with_neurons(self.model, self.pairs, neurons)


def ablation_rows(s: Setup, neurons: torch.Tensor, keys: list) -> list[dict[str, Any]]:
    """Baseline, restricted and excluded losses (neurons and logits; all key irreps together
    and each alone) as rows ``ablation, target, train_loss, test_loss, train_acc, test_acc``."""
    baseline = s.with_neurons(neurons)
    rows = [s.row("baseline", "", baseline)]
    for target, irreps in [("all key", keys)] + [(k.label, [k]) for k in keys]:
        dirs = product_basis(s.fb, irreps)
        for name, transform in (("restricted", restrict), ("excluded", exclude)):
            rows.append(s.row(name, target, s.with_neurons(transform(neurons, dirs))))
            on_logits = logit_transform(baseline, lambda v, t=transform, d=dirs: t(v, d))
            rows.append(s.row(f"logits {name}", target, on_logits))
    return rows


def step_ablations(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Restricted/excluded losses, seed 000's per-cluster validation and seed 004's frequency
    ablations (cyclic groups), at the final checkpoint.

    inputs: ``checkpoints``, ``data``, ``key_irreps``, ``clusters``; no settings.
    """
    (path,) = select_checkpoints(inputs["checkpoints"], "final")
    s = Setup.load(path, inputs["data"])
    keys = _key_irreps(s.fb, inputs["key_irreps"])
    neurons = neuron_values(s.model, s.pairs)
    rows = ablation_rows(s, neurons, keys)

    # Seed 000's validation: each cluster's neurons keep only their own irrep's block.
    clusters = read_parquet(inputs["clusters"], columns=["neuron", "irrep"])
    index = {irrep.label: irrep.index for irrep in s.fb.irreps}
    filtered_all = neurons.clone()
    for label, members in clusters[clusters["irrep"] != "dead"].groupby("irrep")["neuron"]:
        ids = torch.tensor(members.to_numpy())
        own = keep_block(neurons[:, :, ids], s.fb, index[label])
        one = neurons.clone()
        one[:, :, ids] = own
        filtered_all[:, :, ids] = own
        rows.append(s.row("cluster own block", label, s.with_neurons(one)))
    rows.append(s.row("cluster own block", "all clusters", s.with_neurons(filtered_all)))

    metrics: dict[str, Any] = {}
    if s.fb.group.name == "cyclic":
        n = s.fb.group.order
        key_freqs = [frequency_of(k.label) for k in keys]
        for name, freqs in (
            ("without sum/difference frequencies", sum_difference_frequencies(key_freqs, n)),
            ("key frequencies only", [f for f in range(1, n // 2 + 1) if f not in key_freqs]),
        ):
            rows.append(s.row(name, "neurons", s.with_neurons(remove_frequencies(neurons, freqs))))
    table = pd.DataFrame(rows)
    write_parquet(out["table"], table)

    def pick(ablation: str, target: str, column: str) -> float:
        hit = table[(table["ablation"] == ablation) & (table["target"] == target)]
        return float(hit[column].iloc[0])

    for ablation, target in (
        ("baseline", ""),
        ("restricted", "all key"),
        ("excluded", "all key"),
        ("logits restricted", "all key"),
        ("logits excluded", "all key"),
        ("cluster own block", "all clusters"),
    ):
        key = ablation.replace(" ", "_")
        for column in ("train_loss", "test_loss"):
            metrics[f"{key}_{column}"] = pick(ablation, target, column)
    write_json(out["metrics"], metrics)


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative ``values`` (0: all equal; → 1: one carries all)."""
    x = values.double().sort().values
    n = len(x)
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(2 * (ranks * x).sum() / (n * x.sum()) - (n + 1) / n)


def step_progress(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Progress measures at every saved checkpoint, and the phase boundaries. The Parquet
    table also has each irrep's embedding share (``share <irrep>`` columns); the CSV (for
    ``dvc plots``) only the scalar measures.

    inputs: ``checkpoints``, ``data``, ``key_irreps``; settings: params/analysis.yaml
    ``neurons`` (clean threshold) and ``phases``.
    """
    paths = list_checkpoints(inputs["checkpoints"])
    if not paths:
        raise ArtifactError(f"{inputs['checkpoints']}: no checkpoints")
    s = Setup.load(paths[-1], inputs["data"])
    keys = _key_irreps(s.fb, inputs["key_irreps"])
    dirs = product_basis(s.fb, keys)
    kind = s.sidecar["params"]["model"]["kind"]
    threshold = settings["neurons"]["clean_threshold"]
    rows = []
    for path in paths:
        model, sidecar = load_model(path)
        state = model.state_dict()
        neurons = neuron_values(model, s.pairs)
        logits = logits_with_neurons(model, s.pairs, neurons)
        restricted = logits_with_neurons(model, s.pairs, restrict(neurons, dirs))
        excluded = logits_with_neurons(model, s.pairs, exclude(neurons, dirs))
        embeds = embedding_matrices(kind, state, s.fb.group.order)
        norms = irrep_norms(basis_norms(embeds, s.fb), s.fb)
        per_irrep = norms[norms["matrix"].str.startswith("W_E") & (norms["irrep_index"] != 0)]
        per_irrep = per_irrep.groupby("irrep")["norm"].sum()
        fractions = irrep_fractions(neurons, s.fb)
        clean = cluster_neurons(fractions, s.fb, threshold)["clean"].mean()
        shares = per_irrep / per_irrep.sum()
        rows.append(
            {
                "epoch": sidecar["epoch"],
                **split_losses(logits, s.labels, s.is_train),
                "restricted_loss": split_losses(restricted, s.labels, s.is_train)["test_loss"],
                "restricted_loss_all": loss_and_accuracy(restricted, s.labels)[0],
                "excluded_loss": split_losses(excluded, s.labels, s.is_train)["train_loss"],
                "sum_squared_weights": float(
                    sum(p.double().pow(2).sum() for p in model.parameters())
                ),
                "gini_embedding": gini(torch.tensor(per_irrep.to_numpy())),
                "clean_fraction": float(clean),
                **{f"{SHARE_PREFIX}{label}": float(v) for label, v in shares.items()},
            }
        )
    table = pd.DataFrame(rows)
    write_parquet(out["table"], table)
    scalars = [c for c in table.columns if not c.startswith(SHARE_PREFIX)]
    write_text(out["plot"], table[scalars].to_csv(index=False, float_format="%.9g"))
    write_json(out["metrics"], phase_boundaries(table, settings["phases"]))


def step_universality(inputs: Paths, settings: dict[str, Any], out: Paths) -> None:
    """Universality table of a sweep from its members' key irreps and progress tables.

    inputs: ``key_irreps=<json>`` and ``progress=<parquet>`` per member, named
    ``key_irreps:<member>`` and ``progress:<member>``; settings: ``{"seeds": {member: seed}}``.
    """
    members = {}
    for member, seed in settings["seeds"].items():
        members[member] = {
            "seed": seed,
            "key_irreps": read_json(inputs[f"key_irreps:{member}"])["key_irreps"],
            "progress": read_parquet(inputs[f"progress:{member}"]),
        }
    table = universality_table(members)
    write_parquet(out["table"], table)
    write_json(out["metrics"], universality_summary(table))


# `grokscope analyse <step>`: each is one Snakemake rule.
STEPS = {
    "cache": step_cache,
    "key-irreps": step_key_irreps,
    "neurons": step_neurons,
    "logits": step_logits,
    "cyclic": step_cyclic,
    "ablations": step_ablations,
    "progress": step_progress,
    "universality": step_universality,
}
