"""The report page ``results/index.html``: every experiment, its key metrics and every figure.

Pure rendering: :func:`render` turns what the ``report`` step collected (each experiment's
metrics and figure directories, exactly the files the rule passes, so what the page shows is
what Snakemake and DVC track) into HTML. Links are relative to the page and the page has no
scripts or remote resources: it works offline and from a copied ``results/`` directory.
Thumbnails are the figures' PNGs, each linking to its interactive HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from grokscope.pipeline import FIGURE_JOBS, SWEEP_FIGURE_JOBS, not_applicable

JOB_TITLES = FIGURE_JOBS | SWEEP_FIGURE_JOBS  # in reading order
GROUP_SYMBOLS = {"cyclic": "C", "dihedral": "D", "symmetric": "S", "alternating": "A"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { color: #b00020; font-weight: bold; }
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
    "grokked epoch": ("g", lambda m: m["final"]["grokked_epoch"]),
    "key irreps": ("g", lambda m: ", ".join(m["key_irreps"]["key_irreps"])),
    "key-set check": (
        "g",
        lambda m: (
            "⚠ " + "; ".join(f.split(":")[0] for f in m["ablations"]["flags"])
            if m["ablations"]["flags"]
            else "ok"
        ),
    ),
    "clean neurons": ("%", lambda m: m["neurons"]["clean_fraction"]),
    "logit FVE": ("%", lambda m: m["logits"]["fve"]),
    "restricted loss (test)": ("g", lambda m: m["ablations"]["restricted_test_loss"]),
    "excluded loss (train)": ("g", lambda m: m["ablations"]["excluded_train_loss"]),
}


def _kinds(flags: list[str]) -> str:
    """The kinds of the key-set check's flags (the words before each colon), once each."""
    return "; ".join(dict.fromkeys(flag.split(":")[0] for flag in flags))


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


def _comparison(table: dict[str, Any]) -> str:
    """This run beside its reference run, as an HTML table."""
    esc = html.escape
    rows = "".join(
        f'<tr><td>{esc(r["name"])}</td><td class="num">{esc(_fmt(_joined(r["ours"])))}</td>'
        f'<td class="num">{esc(_fmt(_joined(r["reference"])))}</td></tr>'
        for r in table["rows"]
    )
    head = f"<tr><th></th><th>this run</th><th>{esc(table['reference'])}</th></tr>"
    return f"<h3>Beside {esc(table['reference'])}</h3><table>{head}{rows}</table>"


def _joined(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def _key_rules(metrics: dict[str, Any]) -> list[str]:
    """The key-set check's flags, and every rule's key set with its ablation losses."""
    esc = html.escape
    out = []
    flags = _metric(metrics, lambda m: m["ablations"]["flags"]) or []
    for flag in flags:
        out.append(f'<p class="flag">⚠ {esc(flag)}</p>')
    rules = _metric(metrics, lambda m: m["key_irreps"]["rules"])
    if not rules:
        return out
    head = ["rule", "key irreps", "restricted loss (test)", "limit", "excluded loss (train)",
            "limit", "similarity gap", "check"]  # fmt: skip
    rows = []
    for name, r in rules.items():
        verdict = _kinds(r["flags"]) or "ok"
        cells = [name, ", ".join(r["key_irreps"])]
        cells += [_fmt(r[k]) for k in ("restricted_loss", "restricted_limit", "excluded_loss",
                                       "excluded_limit", "gap")]  # fmt: skip
        rows.append("".join(f"<td>{esc(c)}</td>" for c in [*cells, verdict]))
    out.append(
        "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"
        "<tbody>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</tbody></table>"
    )
    return out


def render(found: dict[str, dict[str, Any]], experiments: dict[str, dict[str, Any]]) -> str:
    """The page's HTML.

    Args:
        found: per experiment (or sweep): ``{"metrics": {name: data}, "figures": {job:
            (directory relative to the page, [figure names])}}``.
        experiments: per experiment, its summary (``group``, ``model``, ``source``).
    """
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
        comparison = found[exp]["metrics"].get("comparison")
        if comparison:
            parts.append(_comparison(comparison))

        parts += _key_rules(found[exp]["metrics"])
        if exp in experiments:
            kind = experiments[exp]["model"]["kind"]
            cyclic = experiments[exp]["group"]["name"] == "cyclic"
            skipped = not_applicable(kind, cyclic)
            if skipped:
                items = "".join(
                    f"<li><b>{esc(v)}</b>: {esc(why)}</li>" for v, why in skipped.items()
                )
                parts.append(f"<p>Views not drawn for this model:</p><ul>{items}</ul>")
        figures = found[exp]["figures"]
        order = list(JOB_TITLES)
        for job in sorted(figures, key=lambda j: (order + [j]).index(j)):
            parts.append(f'<h3>{esc(JOB_TITLES.get(job, job))}</h3><div class="figures">')
            directory, names = figures[job]
            for name in names:
                base = f"{quote(directory)}/{quote(name)}"
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
