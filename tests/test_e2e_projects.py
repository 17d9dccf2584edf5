"""End to end in a real headless Chromium: create a project, upload a labelled folder, train with
progress, read the CV metrics, filter the review grid and relabel with one click, try it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from e2e_support import assert_only_local_requests, browser_page, running_server
from synthcheck.engine.detector import Detector
from synthcheck.service.app import create_app
from synthcheck.service.settings import ServiceSettings
from test_project_support import make_dataset, make_images

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def test_training_flow_and_review_grid(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "upload", n=12)  # upload/real/*.png, upload/ai/*.png
    # A long name without spaces once overflowed its card onto the neighbours (issue 27).
    first = sorted((data / "real").iterdir())[0]
    first.rename(first.with_name("camera_roll_" + "0123456789" * 12 + ".png"))
    trial = make_images(tmp_path / "trial", "ai", 1, start=900)
    app = create_app(ServiceSettings(home=str(tmp_path / "home")), detector=Detector())
    with running_server(app) as base, browser_page(base) as (page, requested):
        page.goto(base + "/")
        page.click("#tab-projects")
        page.fill("#new-name", "newsroom")
        page.click("#create-project button[type=submit]")
        page.wait_for_selector("#upload-folder")
        # a folder-per-label upload: sub-folders named like labels label their files
        page.set_input_files("#upload-folder", str(data))
        expect(page.locator("#project-status")).to_have_text(
            re.compile(r"^Added 24"), timeout=120_000
        )
        page.click("#train")
        page.wait_for_selector("#cv-table", timeout=180_000)
        table = page.inner_text("#cv-table")
        assert "real" in table and "ai" in table and "%" in table
        # review grid: all items, least confident first, then relabel one with one click
        page.select_option("#review-filter", "all")
        page.wait_for_selector("#review-grid .card")
        cards = page.locator("#review-grid .card")
        assert cards.count() == 24
        overflowing = page.eval_on_selector_all(
            "#review-grid .card", "cs => cs.filter(c => c.scrollWidth > c.clientWidth + 1).length"
        )
        assert overflowing == 0
        first = cards.nth(0)
        sha = first.get_attribute("data-sha")
        current = first.inner_text()
        target = "ai" if "label: real" in current else "real"
        first.locator(f"button.relabel:text-is('{target}')").click()
        expect(page.locator("#project-status")).to_have_text(re.compile(f"labelled {target}$"))
        relabelled = page.locator(f"#review-grid .card[data-sha='{sha}']")
        expect(relabelled).to_contain_text(f"label: {target}")
        page.select_option("#review-filter", f"label:{target}")
        page.wait_for_selector(f"#review-grid .card[data-sha='{sha}']")
        # try it
        page.set_input_files("#try-files", [str(p) for p in trial])
        page.wait_for_selector("#try-results li")
        assert "ai_900.png" in page.inner_text("#try-results")
    assert_only_local_requests(requested, base)
