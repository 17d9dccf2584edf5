"""Helpers for end-to-end tests: a real uvicorn server on loopback and a headless Chromium."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Keep Chromium off the (closed) network entirely.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(base_url: str) -> Iterator[tuple[Any, list[str]]]:
    """A Playwright page in the system Chromium, and the list of every URL it requested."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):  # type: ignore[attr-defined]
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    requested: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda req: requested.append(req.url))
            page.set_default_timeout(30_000)
            yield page, requested
        finally:
            browser.close()


def assert_only_local_requests(requested: list[str], base_url: str) -> None:
    foreign = [
        u
        for u in requested
        if not (u.startswith(base_url + "/") or u == base_url or u.startswith(("blob:", "data:")))
    ]
    assert not foreign, f"the page requested other hosts: {foreign}"
