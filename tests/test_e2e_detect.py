"""End to end in a real headless Chromium against a real uvicorn: the detect flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from e2e_support import assert_only_local_requests, browser_page, running_server
from synthcheck.engine.detector import Detector
from synthcheck.service.app import create_app

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def _a1111_png(path: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "a lighthouse at dawn\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
        "Seed: 1, Size: 64x64, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly",
    )
    Image.new("RGB", (64, 64), (90, 120, 200)).save(path, pnginfo=info)
    return path


def test_detect_flow_in_browser(tmp_path: Path) -> None:
    generated = _a1111_png(tmp_path / "lighthouse.png")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (64, 64), (30, 30, 30)).save(plain)
    bogus = tmp_path / "bogus.jpg"
    bogus.write_text("not an image")
    app = create_app(detector=Detector())  # provenance only: deterministic and fast
    with running_server(app) as base, browser_page(base) as (page, requested):
        page.goto(base + "/")
        page.set_input_files("#file-input", [str(generated), str(plain), str(bogus)])
        expect(page.locator("#detect-status")).to_have_text("Scanned 3 files.", timeout=60_000)
        rows = page.locator("#results tbody tr")
        by_name = {
            rows.nth(i).locator("td.name").inner_text(): rows.nth(i).inner_text() for i in range(3)
        }
        assert "ai" in by_name["lighthouse.png"].lower()
        assert "unsure" in by_name["plain.png"].lower()
        assert "error" in by_name["bogus.jpg"].lower()
        summary = page.inner_text("#summary")
        assert "1 ai" in summary and "1 unsure" in summary and "1 error" in summary
        # sorting by verdict puts "ai" first
        page.click("th button[data-sort=verdict]")
        assert "lighthouse.png" in rows.nth(0).inner_text()
        # the per-signal breakdown names the generator metadata evidence
        rows.nth(0).click()
        page.wait_for_selector("#detail:not([hidden])")
        page.click("#detail-more summary")  # the signals are one click away
        signals = page.inner_text("#detail-signals")
        assert "generator-metadata" in signals or "decisive" in signals
        # CSV export downloads a file with all rows
        with page.expect_download() as dl:
            page.click("#export-csv")
        csv_path = dl.value.path()
        assert csv_path is not None
        assert len(Path(csv_path).read_text().strip().splitlines()) == 4
    assert_only_local_requests(requested, base)
