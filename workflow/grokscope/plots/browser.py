"""The headless browser that exports PNGs: one kaleido session per figure job, watched.

The browser runs beside the job's own work: :func:`early_browser` starts it (Chromium, then
kaleido's page with plotly.js: most of a small figure job's cost) on a thread of its own when
the step's process starts, so it comes up while the process imports its code and builds its
figures, and :class:`PngExport` has it render each PNG as soon as the job submits the
figure, while the job writes the HTML and styles the next one.

Each browser loads plotly.js: plotly.js's cartesian bundle where the set-up installed it, and
the full bundle for a figure with a trace type it lacks (:mod:`grokscope.plots.plotlyjs`).

A browser can hang (seen once: a PNG export waiting 24 minutes on an idle Chromium), so the
export runs under a watchdog: each step (starting the browser, rendering one figure, closing
it) gets :func:`png_timeout` seconds, after which the watchdog ends the browser, which makes
the export fail instead of wait. A failed export is retried once with a fresh browser; if
that fails too, the job stops with one :class:`MachineError` line.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from grokscope.errors import MachineError
from grokscope.plots.plotlyjs import drawable, partial_plotly

# Seconds one step of a PNG export may take; the environment variable overrides it.
PNG_TIMEOUT_VAR, PNG_TIMEOUT = "GROKSCOPE_PNG_TIMEOUT", 60.0
PNG_ATTEMPTS = 2  # the first, and one retry with a fresh browser
# The first attempt's browser start gets this share of the step timeout, the retry all of it.
# A start normally takes a small part of it, and one that has not opened by then has hung:
# headless Chromium now and then never opens its DevTools connection (seen twice in one
# default-suite build), and waiting longer only delays the retry, which costs one more start.
FIRST_START_SHARE = 1 / 3
# Chromium's headless shell (Debian: chromium-headless-shell; set-up installs it) is Chromium
# without its windowing: the same renderer, so the same PNGs byte for byte, and a much cheaper
# start for a job that exports a handful (benchmarks/figure_browsers.py --browsers).
HEADLESS_SHELL = "chromium-headless-shell"


def browser_path() -> str | None:
    """The browser to export PNGs with: none of ours if ``$BROWSER_PATH`` names one (kaleido
    then starts that), else the headless shell when installed, else None: kaleido's own search
    for a Chrome or Chromium."""
    if os.environ.get("BROWSER_PATH"):
        return None
    return shutil.which(HEADLESS_SHELL)


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


class Session:
    """A kaleido browser on an event loop in a thread of its own, opening from construction.

    Calls made here wait for the loop; the watchdog ends the browser's processes through
    :attr:`subprocess` when a call outlives its deadline.
    """

    def __init__(self, timeout: float, plotly_js: Path | None) -> None:
        self.plotly_js = plotly_js  # the partial bundle, or None for plotly's full one
        # How long a browser that is still starting when the step ends (unused, or the step
        # failed) gets to finish starting, and then to close: as long as a first start may
        # take. On a loaded machine a start can take several seconds, and one closed mid-start
        # could stay running with no one left to close it.
        self.start_limit = timeout * FIRST_START_SHARE
        self.browser: Any = None
        self.renders: list[concurrent.futures.Future] = []  # in the order submitted
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="png")
        self._thread.start()
        self.opened = self._submit(self._open(timeout))

    @property
    def subprocess(self) -> Any:
        return getattr(self.browser, "subprocess", None)  # choreographer's Popen

    async def _open(self, timeout: float) -> None:
        import kaleido

        # timeout: kaleido's own limit on one render. mathjax=False: kaleido's page would
        # otherwise load MathJax from a CDN at every start; no figure has LaTeX, and a PNG
        # must not depend on the network. plotlyjs: None loads plotly's own full bundle.
        script = None if self.plotly_js is None else (self.plotly_js.as_uri(), "utf-8")
        self.browser = kaleido.Kaleido(
            timeout=timeout, path=browser_path(), mathjax=False, plotlyjs=script
        )
        await self.browser.open()

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def render_soon(self, spec: dict[str, Any]) -> None:
        """Export one figure spec once the browser is open (renders queue for its tab)."""
        self.renders.append(self._submit(self._render(spec)))

    async def _render(self, spec: dict[str, Any]) -> None:
        await asyncio.wrap_future(self.opened)
        await self.browser.write_fig_from_object(spec, cancel_on_error=True)

    def close(self, wait: float | None = None) -> None:
        """Drop the renders still queued, let a browser that is still starting finish, close
        it and stop the loop; ``wait``: at most this long for each (a browser closed mid-start
        could stay running, with no one left to close it). A close that takes longer ends the
        browser's processes instead: by then every render has finished or been dropped, and
        a close that hangs (seen once in a test run, on a loaded machine) must not fail a job
        whose files are written."""
        for render in self.renders:
            render.cancel()
        try:
            concurrent.futures.wait([self.opened], timeout=wait)
            if self.browser is not None:
                self._submit(self.browser.close()).result(wait)
        except TimeoutError:
            _kill(self.subprocess)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)


_early: Session | None = None


@contextlib.contextmanager
def early_browser() -> Iterator[None]:
    """Start this process's browser now, for the first :class:`PngExport` inside to use.

    A failure to start shows there, where it is retried like any other. A browser that no
    export used (the step refused its input, say) is closed on the way out, before the
    interpreter's exit handlers: Chromium must be gone before its profile directory is
    removed, or the removal fails with a traceback after the step's one-line message.
    """
    global _early
    _early = Session(png_timeout(), partial_plotly())
    try:
        yield
    finally:
        session, _early = _early, None
        if session is not None:
            _close_quietly(session)


def _session(timeout: float) -> Session:
    """The early browser if one was started and not yet used, else a new one."""
    global _early
    session, _early = _early, None
    return session if session is not None else Session(timeout, partial_plotly())


class PngExport:
    """The PNG exports of one figure job, through one browser that renders each as soon as it
    is submitted, while the job goes on (writing HTML, styling the next figure); from the first
    figure the cartesian plotly.js cannot draw on, all of them through a browser with the full
    one. Used as a context manager: on leaving the block it waits for every export, under the
    watchdog; a failed attempt is retried once, all exports with a fresh browser, and a second
    failure is a :class:`MachineError` naming ``out_dir``. Leaving the block by an exception
    ends the browser without waiting.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir, self.timeout = out_dir, png_timeout()
        self.specs: list[dict[str, Any]] = []
        self.session = _session(self.timeout)

    def submit(self, spec: dict[str, Any]) -> None:
        """One export: kaleido's figure spec (``fig`` as a dict, ``path``, ``opts``)."""
        self.specs.append(spec)
        if not drawable(spec["fig"], self.session.plotly_js):
            _close_quietly(self.session)
            self.session = Session(self.timeout, plotly_js=None)
        for todo in self.specs if not self.session.renders else [spec]:  # all, if new
            self.session.render_soon(todo)

    def __enter__(self) -> PngExport:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:
            _close_quietly(self.session)
            return
        for attempt in range(1, PNG_ATTEMPTS + 1):
            watchdog = _Watchdog(self.timeout)
            try:
                with watchdog:
                    if attempt > 1:
                        self.session = Session(self.timeout, self.session.plotly_js)
                        for spec in self.specs:
                            self.session.render_soon(spec)
                    self._wait(watchdog, first=attempt == 1)
                return
            except Exception as err:  # noqa: BLE001 - any failure of the browser: retry, then say so
                fired = f"{watchdog.fired} took over {watchdog.limit:g} s"
                reason = fired if watchdog.fired else repr(err)
                print(f"PNG export attempt {attempt} failed: {reason}", file=sys.stderr)
        raise MachineError(
            f"{self.out_dir}: PNG export failed {PNG_ATTEMPTS} times "
            f"({' '.join(reason.split())[:200]}); nothing new was written there. Check that the "
            f"headless browser runs (Chromium, or BROWSER_PATH), or allow slower steps with "
            f"{PNG_TIMEOUT_VAR} (now {self.timeout:g} s)"
        )

    def _wait(self, watchdog: _Watchdog, first: bool) -> None:
        watchdog.session = self.session
        watchdog.step("starting the browser", self.timeout * (FIRST_START_SHARE if first else 1))
        try:
            self.session.opened.result()
            for spec, render in zip(self.specs, self.session.renders, strict=True):
                watchdog.step(f"rendering {Path(spec['path']).name}")
                render.result()
        finally:
            watchdog.step("closing the browser")
            self.session.close(wait=self.session.start_limit)


def _close_quietly(session: Session) -> None:
    try:
        session.close(wait=session.start_limit)
    except Exception:  # noqa: BLE001 - ending anyway: end the browser for sure
        _kill(session.subprocess)


def _kill(process: Any) -> None:
    """End a browser's process group (it runs in a session of its own)."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class _Watchdog:
    """A thread that ends the browser when a step outlives its deadline.

    Killing the browser's process group makes the pending call fail, so the export unwinds
    (choreographer then takes a few seconds to clean up); should it still not have unwound
    after :data:`UNWIND_GRACE` seconds, the watchdog ends this process with a one-line
    message, so that nothing waits forever.
    """

    UNWIND_GRACE = 30.0

    def __init__(self, timeout: float) -> None:
        self.timeout, self.session, self.fired = timeout, None, ""
        self.limit = timeout  # seconds the current step may take (once fired: the fired one)
        self._what, self._deadline, self._done = "starting", time.monotonic() + timeout, False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="png-watchdog")

    def step(self, what: str, limit: float | None = None) -> None:
        """Time ``what`` next: ``limit`` seconds (default: the timeout)."""
        with self._cond:
            if not self.fired:  # once fired, only the unwinding is timed
                self.limit = self.timeout if limit is None else limit
                self._what, self._deadline = what, time.monotonic() + self.limit

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
                    _kill(getattr(self.session, "subprocess", None))
                    self._deadline = time.monotonic() + self.UNWIND_GRACE
