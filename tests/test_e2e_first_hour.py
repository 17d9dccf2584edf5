"""Issue 27 in a real headless Chromium: results arrive one by one, the detail view leads with
plain words, alerts and a heatmap legend, and images open large or side by side."""

from __future__ import annotations

import csv
import io
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image

from e2e_support import assert_only_local_requests, browser_page, running_server
from imagegen import make_jpeg
from synthcheck.engine.detector import Detector
from synthcheck.results import SignalResult, SignalVerdict
from synthcheck.service.app import create_app

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


#: Images this wide are slow to scan (the server may hand the model a temporary path, so the
#: double tells files apart by their pixels, not their names).
SLOW_WIDTH = 321


RELEASE_SLOW = threading.Event()


class StubPixels:
    """A pixel model double: slow on images SLOW_WIDTH wide, sure of "ai" on the others, with a
    uniform (uninformative) heatmap when one is asked for."""

    name = "stub"

    def predict(self, image: Any, *, heatmap: bool = False) -> Any:
        if image.width == SLOW_WIDTH:
            # Held until the test has seen the other result on the page: a fixed sleep made the
            # check race the scan on a busy machine.
            RELEASE_SLOW.wait(timeout=60)
            p = 0.1
        else:
            p = 0.9
        verdict: SignalVerdict = "ai" if p > 0.5 else "real"
        pix = SignalResult("pix", "pixel", verdict, p, f"pixels score {p}")
        grid = np.full((2, 3), 0.5) if heatmap else None
        return SimpleNamespace(p_ai=p, signals=[pix], heatmap=grid)


def _photo(path: Path, alpha: bool = False, width: int = 320) -> Path:
    rng = np.random.default_rng(7)
    pixels = np.clip(rng.normal(120, 30, (240, width, 3)), 0, 255).astype(np.uint8)
    if alpha:
        pixels = np.dstack([pixels, np.full((240, width), 180, np.uint8)])
    Image.fromarray(pixels).save(path)
    return path


def test_each_result_shows_as_soon_as_it_is_known(tmp_path: Path) -> None:
    fast = _photo(tmp_path / "fast.png")
    slow = _photo(tmp_path / "slow.png", width=SLOW_WIDTH)
    RELEASE_SLOW.clear()
    app = create_app(detector=Detector(pixel_model=StubPixels()))
    with running_server(app) as base, browser_page(base) as (page, requested):
        page.goto(base + "/")
        page.uncheck("#want-heatmap")
        page.set_input_files("#file-input", [str(fast), str(slow)])
        fast_row = page.locator("#results tbody tr", has_text="fast.png")
        expect(fast_row.locator(".verdict")).to_have_text("ai", timeout=10_000)
        # The slow file is still being scanned while the fast one is already shown.
        expect(page.locator("#detect-status")).to_have_text("Scanning: 1 of 2 done…")
        slow_row = page.locator("#results tbody tr", has_text="slow.png")
        assert slow_row.locator(".verdict").inner_text() == "…"
        RELEASE_SLOW.set()
        expect(page.locator("#detect-status")).to_have_text("Scanned 2 files.", timeout=20_000)
        expect(slow_row.locator(".verdict")).to_have_text("real")
    assert_only_local_requests(requested, base)


def test_detail_view_alerts_legend_viewer_and_compare(tmp_path: Path) -> None:
    from test_signal_c2pa import _manifest, make_ca, sign_jpeg, tamper

    transparent = _photo(tmp_path / "transparent.png", alpha=True)
    plain = make_jpeg(tmp_path / "plain.jpg", (320, 240), seed=3)
    signed = sign_jpeg(make_ca(), plain, tmp_path / "signed.jpg", _manifest("digitalCreation"))
    tampered = tamper(signed)
    app = create_app(detector=Detector(pixel_model=StubPixels()))
    with running_server(app) as base, browser_page(base) as (page, requested):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/")
        page.set_input_files("#file-input", [str(transparent), str(tampered)])
        expect(page.locator("#detect-status")).to_have_text("Scanned 2 files.", timeout=30_000)
        rows = page.locator("#results tbody tr")
        t_row = rows.filter(has_text="transparent.png")
        c_row = rows.filter(has_text="tampered-signed.jpg")
        expect(t_row).to_contain_text("caution: transparent image")
        expect(c_row).to_contain_text("C2PA manifest invalid")

        c_row.click()
        expect(page.locator("#detail-alerts")).to_contain_text("fail validation")
        t_row.click()
        expect(page.locator("#detail-plain")).to_contain_text("Probably made by AI")
        expect(page.locator("#detail-alerts")).to_contain_text("Caution: transparent image")
        expect(page.locator("#detail-signals")).to_be_hidden()  # details are one click away
        page.click("#detail-more summary")
        expect(page.locator("#detail-signals")).to_be_visible()
        page.check("#toggle-heat")
        legend = page.locator("#detail-legend")
        expect(legend).to_be_visible()
        expect(legend).to_contain_text("camera-made")
        expect(legend).to_contain_text("generated")
        expect(legend).to_contain_text("heatmap uninformative")

        small = page.locator("#detail-img").bounding_box()
        page.click("#open-large")
        viewer = page.locator("#viewer")
        expect(viewer).to_be_visible()
        big = viewer.locator("figure img").first.bounding_box()
        assert small is not None and big is not None and big["width"] > 1.5 * small["width"]
        expect(viewer.locator("figure img.heat")).to_be_visible()  # the heatmap over it
        page.click("#viewer-close")
        expect(viewer).to_be_hidden()

        t_row.locator("input.pick").check()
        c_row.locator("input.pick").check()
        page.click("#compare")
        figures = viewer.locator("figure")
        expect(figures).to_have_count(2)
        a, b = figures.nth(0).bounding_box(), figures.nth(1).bounding_box()
        assert a is not None and b is not None
        assert b["x"] >= a["x"] + a["width"] - 1 and abs(a["y"] - b["y"]) < 5  # side by side
        page.click("#viewer-close")

        with page.expect_download() as dl:
            page.click("#export-csv")
        path = dl.value.path()
        assert path is not None
        rows_csv = list(csv.DictReader(io.StringIO(Path(path).read_text())))
        assert all(r["evidence"] and r["evidence"] != "—" for r in rows_csv)
        assert {r["cautions"] for r in rows_csv} >= {"transparent image"}
    assert_only_local_requests(requested, base)


def test_long_names_wrap_inside_the_results_table(tmp_path: Path) -> None:
    name = "holiday_" + "x" * 150 + ".png"
    long = _photo(tmp_path / name)
    app = create_app(detector=Detector())
    with running_server(app) as base, browser_page(base) as (page, _requested):
        page.set_viewport_size({"width": 900, "height": 800})
        page.goto(base + "/")
        page.set_input_files("#file-input", [str(long)])
        expect(page.locator("#detect-status")).to_have_text(re.compile("^Scanned 1 file"))
        table = page.locator("#results")
        wide = table.evaluate("t => t.scrollWidth > t.parentElement.clientWidth + 1")
        assert not wide
