"""The report page ``results/index.html``: every experiment, its key metrics and every figure.

Built from exactly the files the ``report`` rule passes (``results/<exp>/figures/<job>``
directories and ``results/<exp>/**/<name>.json`` metrics), so what the page shows is what
Snakemake and DVC track. Links are relative to the page and the page has no scripts or
remote resources: it works offline and from a copied ``results/`` directory. Thumbnails are
the figures' PNGs, each linking to its interactive HTML.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from grokscope.io import ArtifactError, read_json, write_text

# Figure jobs in reading order (those an experiment lacks are skipped).
JOB_ORDER = ["training", "progress", "fourier", "neurons", "logits", "cyclic"]
JOB_TITLES = {
    "training": "Training",
    "progress": "Progress measures",
    "fourier": "Fourier view of the weights",
    "neurons": "Neurons",
    "logits": "Logits and ablations",
    "cyclic": "Signal-processing view (cyclic group)",
}
GROUP_SYMBOLS = {"cyclic": "C", "dihedral": "D", "symmetric": "S", "alternating": "A"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 320px; }
figure img { width: 320px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; }
"""


def _fmt(value: Any, kind: str = "g") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1%}" if kind == "%" else f"{value:.3g}"
    return str(value)


# Column header → how to read it from an experiment's metrics ({json stem: data}).
METRICS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "train loss": ("g", lambda m: m["final"]["train_loss"]),
    "test loss": ("g", lambda m: m["final"]["test_loss"]),
    "train acc": ("%", lambda m: m["final"]["train_acc"]),
    "test acc": ("%", lambda m: m["final"]["test_acc"]),
    "grokked epoch": ("g", lambda m: m["phases"]["grokked_epoch"]),
    "key irreps": ("g", lambda m: ", ".join(m["key_irreps"]["key_irreps"])),
    "clean neurons": ("%", lambda m: m["neurons"]["clean_fraction"]),
    "logit FVE": ("%", lambda m: m["logits"]["fve"]),
    "restricted loss (test)": ("g", lambda m: m["ablations"]["restricted_test_loss"]),
    "excluded loss (train)": ("g", lambda m: m["ablations"]["excluded_train_loss"]),
}


def collect(inputs: list[Path], root: Path) -> dict[str, dict[str, Any]]:
    """Group the report's inputs by experiment: ``{exp: {"figures": {job: [names]},
    "metrics": {json stem: data}}}``; paths are under ``root`` as ``<exp>/...``."""
    found: dict[str, dict[str, Any]] = {}
    for path in inputs:
        parts = Path(os.path.relpath(path, root)).parts
        if len(parts) < 2 or parts[0] == "..":
            raise ArtifactError(f"{path}: not under {root}")
        entry = found.setdefault(parts[0], {"figures": {}, "metrics": {}})
        if parts[1] == "figures" and len(parts) == 3:
            if not path.is_dir():
                raise ArtifactError(f"{path}: figure directory not found")
            names = sorted(p.stem for p in path.glob("*.png") if p.with_suffix(".html").exists())
            entry["figures"][parts[2]] = names
        elif path.suffix == ".json":
            entry["metrics"][path.stem] = read_json(path)
        else:
            raise ArtifactError(f"{path}: neither a figure directory nor a metrics JSON")
    return found


def _metric(metrics: dict[str, Any], read: Callable[[dict[str, Any]], Any]) -> Any:
    try:
        return read(metrics)
    except (KeyError, TypeError):
        return None


def _describe(summary: dict[str, Any]) -> str:
    group, model = summary["group"], summary["model"]
    symbol = f"{GROUP_SYMBOLS.get(group['name'], group['name'])}_{group['n']}"
    sizes = ", ".join(f"{k} {v}" for k, v in sorted(model.items()) if k != "kind")
    return f"{model['kind']} ({sizes}) on {symbol}, {summary['source']}"


def render(found: dict[str, dict[str, Any]], experiments: dict[str, dict[str, Any]]) -> str:
    """The page's HTML for the collected inputs and the experiments' summaries."""
    esc = html.escape
    names = sorted(found)
    head = "".join(f"<th>{esc(h)}</th>" for h in ["experiment", "setting", *METRICS])
    rows = []
    for exp in names:
        cells = [f'<td><a href="#{quote(exp)}">{esc(exp)}</a></td>']
        cells.append(
            f"<td>{esc(_describe(experiments[exp]))}</td>" if exp in experiments else "<td></td>"
        )
        for kind, read in METRICS.values():
            value = _metric(found[exp]["metrics"], read)
            cells.append(f'<td class="num">{esc(_fmt(value, kind))}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    sections = []
    for exp in names:
        parts = [f'<section id="{esc(exp)}"><h2>{esc(exp)}</h2>']
        if exp in experiments:
            parts.append(f"<p>{esc(_describe(experiments[exp]))}</p>")
        reason = _metric(found[exp]["metrics"], lambda m: m["key_irreps"]["reason"])
        if reason:
            parts.append(f"<p>Key irreps: {esc(str(reason))}</p>")
        figures = found[exp]["figures"]
        for job in sorted(figures, key=lambda j: (JOB_ORDER + [j]).index(j)):
            parts.append(f'<h3>{esc(JOB_TITLES.get(job, job))}</h3><div class="figures">')
            for name in figures[job]:
                base = f"{quote(exp)}/figures/{quote(job)}/{quote(name)}"
                parts.append(
                    f'<figure><a href="{base}.html"><img src="{base}.png" alt="{esc(name)}">'
                    f"</a><figcaption>{esc(name)}</figcaption></figure>"
                )
            parts.append("</div>")
        parts.append("</section>")
        sections.append("\n".join(parts))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>grokscope results</title><style>{STYLE}</style></head><body>\n"
        "<h1>grokscope results</h1>\n"
        "<p>Every experiment of the suite: key metrics, then every figure (click a thumbnail "
        "for the interactive version).</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


def write_report(inputs: list[Path], experiments: dict[str, dict[str, Any]], out: Path) -> None:
    """Write the report page ``out`` (its directory is the results root) from ``inputs``."""
    found = collect([Path(p) for p in inputs], Path(out).parent)
    write_text(out, render(found, experiments))
