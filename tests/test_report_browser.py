"""``results/index.html`` in a real browser: it loads without console errors, every image
decodes, every link resolves, and every linked figure page draws its plot.

The browser is Debian's ``chromium`` (never downloaded), started headless with a fresh
profile and driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, replies on fd 4, JSON messages ended by NUL), with the standard library
only. Errors are everything the page reports: ``console.error``/``assert`` calls, uncaught
exceptions, error log entries (which include failed resource loads, a 404 from a server
too) and failed network requests. The results come from
the repo built by tests/test_figures.py, copied on their own to another directory: every
page is checked opened from files and served by a static web server (Python's http.server
on 127.0.0.1), so only relative links inside ``results/`` work.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import pytest
from test_figures import EXPERIMENTS, figures_repo

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Resolves once every image has loaded (or failed): the page's images and links.
INDEX_CHECK = """(async () => {
  const images = [...document.images];
  await Promise.all(images.map(i => i.decode().catch(() => null)));
  return {
    images: images.map(i => ({src: i.src, width: i.complete ? i.naturalWidth : 0})),
    links: [...document.links].map(a => a.href),
    anchors: [...document.querySelectorAll('[id]')].map(e => e.id),
  };
})()"""
# Resolves once plotly has drawn the page's figure (or after 10 s).
PLOT_CHECK = """(async () => {
  for (let i = 0; i < 200; i++) {
    const div = document.querySelector('.plotly-graph-div');
    if (div && div._fullLayout && div.querySelector('.main-svg')) return div.id;
    await new Promise(r => setTimeout(r, 50));
  }
  return null;
})()"""


class DevTools:
    """Headless Chromium with a fresh profile, controlled over the DevTools pipe."""

    def __init__(self, profile: Path):
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def child_fds() -> None:  # the pipe ends become fds 3 and 4 of the browser
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        args = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        self.proc = subprocess.Popen(
            args,
            preexec_fn=child_fds,
            close_fds=False,  # keep fds 3/4 (everything else Python opened is close-on-exec)
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.time()))
            if not ready:
                raise TimeoutError("no message from the browser")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise EOFError("the browser closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout=30.0
    ) -> dict[str, Any]:
        """Send one command and return its result; events received meanwhile are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30.0) -> None:
        """Wait for an event of ``method`` from ``session`` (consuming it)."""
        deadline = time.time() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    del self.events[i]
                    return
            self.events.append(self._receive(deadline))

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (EOFError, TimeoutError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._read)
        os.close(self._write)


def errors(events: list[dict[str, Any]], session: str) -> list[str]:
    """Everything in ``events`` (of one page session) that reports an error."""
    found = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            if params["entry"].get("url", "").endswith("/favicon.ico"):
                continue  # the browser's own request to a web server, not the page's
            found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            found.append(f"network: {params.get('errorText')} ({params.get('requestId')})")
    return found


class Page:
    """One tab: navigate to URLs and evaluate checks, collecting its errors."""

    def __init__(self, browser: DevTools):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=self.session)

    def open(self, url: str, check: str) -> tuple[Any, list[str]]:
        """Load ``url``, run the ``check`` expression (awaited); ``(its value, errors)``."""
        self.browser.events.clear()
        self.browser.send("Page.navigate", {"url": url}, self.session)
        self.browser.wait_for("Page.loadEventFired", self.session)
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": check, "awaitPromise": True, "returnByValue": True},
            self.session,
        )
        return result["result"].get("value"), errors(self.browser.events, self.session)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's `chromium` is not installed (apt-get install chromium)")
    browser = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield Page(browser)
    finally:
        browser.close()


class Site:
    """A copy of ``results/`` away from the repository, opened as files or served over HTTP
    by a static web server on 127.0.0.1: what works there needs only relative links."""

    def __init__(self, root: Path, base: str):
        self.root, self.base = root, base  # base: the URL of root, ending in "/"

    def url(self, path: Path) -> str:
        return self.base + quote(path.relative_to(self.root).as_posix())

    def path(self, url: str) -> Path:
        """The file in the copy that ``url`` names (fragment dropped); fails for any URL
        outside the copy."""
        assert url.startswith(self.base), f"link outside the copied results/: {url}"
        return self.root / unquote(urlparse(url).path.removeprefix(urlparse(self.base).path))


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no request log on stderr
        pass


@pytest.fixture(scope="module")
def copied(tmp_path_factory, run_temp: Path, tiny_build: Path) -> Path:
    """``results/`` of the built repo, copied to another directory on its own."""
    return shutil.copytree(
        figures_repo(run_temp, tiny_build) / "results",
        tmp_path_factory.mktemp("copy") / "results",
    )


@pytest.fixture(scope="module", params=["files", "http"])
def site(request, copied: Path):
    if request.param == "files":
        yield Site(copied, copied.as_uri() + "/")
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=copied))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(copied, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_index_loads_without_errors_and_every_image_and_link_resolves(page: Page, site: Site):
    index = site.root / "index.html"
    found, errs = page.open(site.url(index), INDEX_CHECK)
    assert not errs, errs
    assert found["images"], "no thumbnails"
    broken = [i["src"] for i in found["images"] if i["width"] <= 0]
    assert not broken, broken
    for exp in EXPERIMENTS:
        assert exp in found["anchors"]
    figure_pages = set()
    for link in found["links"]:
        path, fragment = site.path(link), urlparse(link).fragment
        assert path.exists(), link
        if fragment:
            assert path == index and unquote(fragment) in found["anchors"], link
        else:
            figure_pages.add(path)
    images = {site.path(i["src"]).with_suffix(".html") for i in found["images"]}
    assert figure_pages == images  # every thumbnail links to its interactive page


def test_every_linked_figure_page_draws_its_plot_without_errors(page: Page, site: Site):
    found, _ = page.open(site.url(site.root / "index.html"), INDEX_CHECK)
    pages = sorted({site.path(link) for link in found["links"] if not urlparse(link).fragment})
    assert pages
    for path in pages:
        drawn, errs = page.open(site.url(path), PLOT_CHECK)
        assert not errs, (path, errs)
        assert drawn == path.stem, f"{path}: plot not drawn"


def test_a_page_whose_plotly_js_is_missing_is_caught(page: Page, site: Site):
    # The checks above can fail: a figure page moved one level deeper loads no plotly.js.
    source = next(site.root.glob("*/figures/training/loss.html"))
    moved = site.root / "moved/a/b/c/loss.html"
    moved.parent.mkdir(parents=True)
    try:
        shutil.copy(source, moved)
        drawn, errs = page.open(site.url(moved), PLOT_CHECK)
    finally:
        shutil.rmtree(site.root / "moved")
    assert drawn is None and errs
