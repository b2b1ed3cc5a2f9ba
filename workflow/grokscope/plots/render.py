"""Rendering figure jobs: the shared style, then HTML and PNG files, atomically.

Each figure is written as interactive HTML and as PNG, all PNGs of a job through one
headless-browser session. The HTML pages hold no copy of plotly.js: each loads the suite's
one copy (``results/assets/plotly.min.js``, written by the ``assets`` step) by a path
relative to the page, so they work offline, from a copy of ``results/`` and from a static
web server.

A browser can hang (seen once: a PNG export waiting 24 minutes on an idle Chromium), so the
PNG export runs under a watchdog: each step (starting the browser, rendering one figure,
closing it) gets :func:`png_timeout` seconds, after which the watchdog ends the browser it
started, which makes the export fail instead of wait. A failed export is retried once with a
fresh browser; if that fails too, the job stops with one :class:`MachineError` line, and the
figure directory keeps what it held before (everything is written to a temporary directory
that replaces it only when complete).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from grokscope.errors import ArtifactError, MachineError
from grokscope.io import atomic_directory
from grokscope.plots.common import Style, palette

Figures = dict[str, go.Figure]
# Seconds one step of a PNG export may take; the environment variable overrides it.
PNG_TIMEOUT_VAR, PNG_TIMEOUT = "GROKSCOPE_PNG_TIMEOUT", 60.0
PNG_ATTEMPTS = 2  # the first, and one retry with a fresh browser


def styled(fig: go.Figure, style: Style) -> go.Figure:
    """Apply the shared style from ``params/figures.yaml`` (template, size, font, palette)."""
    return fig.update_layout(
        template=style["template"],
        width=style["width"],
        height=style["height"],
        font_size=style["font_size"],
        colorway=palette(style),
    )


def script_src(plotly_js: Path, out_dir: Path) -> str:
    """The URL of ``plotly_js`` relative to a page in ``out_dir`` (``../../../assets/...``)."""
    return Path(os.path.relpath(plotly_js, out_dir)).as_posix()


def write_figures(figures: Figures, out_dir: Path, style: Style, plotly_js: Path) -> None:
    """Style and render ``{name: figure}`` to ``out_dir/name.html`` and ``name.png``.

    Every page loads ``plotly_js`` (the shared ``plotly.min.js``) by a relative path.
    Everything is written to a temporary sibling directory that replaces ``out_dir`` only
    once every file is complete. All PNGs go through one browser session, at
    ``width × scale`` by ``height × scale`` pixels (:func:`write_pngs`).
    """
    if not Path(plotly_js).is_file():
        raise ArtifactError(f"{plotly_js}: plotly.js not found (the `assets` step writes it)")
    src = script_src(Path(plotly_js), Path(out_dir))
    figures = {name: styled(fig, style) for name, fig in figures.items()}
    with atomic_directory(out_dir) as tmp:
        for name, fig in figures.items():
            # A fixed div id keeps the HTML byte-identical across renders of the same data.
            fig.write_html(tmp / f"{name}.html", include_plotlyjs=src, div_id=name)
        opts = {"format": "png", "width": style["width"], "height": style["height"]}
        specs = [
            {
                "fig": fig.to_dict(),
                "path": tmp / f"{name}.png",
                "opts": opts | {"scale": style["scale"]},
            }
            for name, fig in figures.items()
        ]
        write_pngs(specs, out_dir)


def png_timeout() -> float:
    """Seconds per export step: ``$GROKSCOPE_PNG_TIMEOUT`` if set, else :data:`PNG_TIMEOUT`."""
    text = os.environ.get(PNG_TIMEOUT_VAR, "")
    try:
        value = float(text) if text else PNG_TIMEOUT
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise MachineError(f"{PNG_TIMEOUT_VAR}={text!r}: expected a positive number of seconds")
    return value


def write_pngs(specs: list[dict[str, Any]], out_dir: Path) -> None:
    """Export kaleido figure specs (``fig``, ``path``, ``opts``) through one browser, with the
    watchdog and one retry; a second failure is a MachineError naming ``out_dir``."""
    timeout = png_timeout()
    for attempt in range(1, PNG_ATTEMPTS + 1):
        watchdog = _Watchdog(timeout)
        try:
            with watchdog:
                asyncio.run(_export(specs, timeout, watchdog))
            return
        except Exception as err:  # noqa: BLE001 - any failure of the browser: retry, then say so
            reason = f"{watchdog.fired} took over {timeout:g} s" if watchdog.fired else repr(err)
            print(f"PNG export attempt {attempt} failed: {reason}", file=sys.stderr)
    raise MachineError(
        f"{out_dir}: PNG export failed {PNG_ATTEMPTS} times ({' '.join(reason.split())[:200]}); "
        f"nothing new was written there. Check that the headless browser runs (Chromium, "
        f"or BROWSER_PATH), or allow slower steps with {PNG_TIMEOUT_VAR} (now {timeout:g} s)"
    )


async def _export(specs: list[dict[str, Any]], timeout: float, watchdog: _Watchdog) -> None:
    import kaleido

    browser = kaleido.Kaleido(timeout=timeout)  # kaleido's own limit on one render, too
    watchdog.browser = browser
    watchdog.step("starting the browser")
    await browser.open()
    try:
        for spec in specs:
            watchdog.step(f"rendering {Path(spec['path']).name}")
            await browser.write_fig_from_object(spec, cancel_on_error=True)
    finally:
        watchdog.step("closing the browser")
        await browser.close()


class _Watchdog:
    """A thread that ends the browser when a step outlives its deadline.

    Killing the browser's process group (it runs in a session of its own) makes the pending
    call fail, so the export unwinds (choreographer then takes a few seconds to clean up);
    should it still not have unwound after :data:`UNWIND_GRACE` seconds, the watchdog ends
    this process with a one-line message, so that nothing waits forever.
    """

    UNWIND_GRACE = 30.0

    def __init__(self, timeout: float) -> None:
        self.timeout, self.browser, self.fired = timeout, None, ""
        self._what, self._deadline, self._done = "starting", time.monotonic() + timeout, False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="png-watchdog")

    def step(self, what: str) -> None:
        with self._cond:
            if not self.fired:  # once fired, only the unwinding is timed
                self._what, self._deadline = what, time.monotonic() + self.timeout

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()
        self._thread.join()

    def _watch(self) -> None:
        with self._cond:
            while not self._done:
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                elif self.fired:  # killing the browser did not end the wait
                    print(f"grokscope: PNG export: {self.fired} hung, and had not given up "
                          f"{self.UNWIND_GRACE:g} s after the browser was ended; stopping",
                          file=sys.stderr, flush=True)  # fmt: skip
                    os._exit(1)
                else:
                    self.fired = self._what
                    self._kill_browser()
                    self._deadline = time.monotonic() + self.UNWIND_GRACE

    def _kill_browser(self) -> None:
        process = getattr(self.browser, "subprocess", None)  # choreographer's Popen
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
