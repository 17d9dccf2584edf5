"""Report writers: CSV/JSON/JSONL parse back, the terminal table, the self-contained HTML."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from PIL import Image
from rich.console import Console

from imagegen import make_jpeg, make_png
from synthcheck.reports import (
    CsvWriter,
    JsonlWriter,
    ScanSummary,
    TableWriter,
    write_html,
    write_json,
)
from synthcheck.reports.html import suspicion
from synthcheck.reports.rows import headline, result_from_csv_row
from synthcheck.reports.svg import histogram_svg
from synthcheck.results import ErrorInfo, Evidence, ScanResult, SignalResult, SignalVerdict

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", re.IGNORECASE)


def ai_signal() -> SignalResult:
    return SignalResult(
        "generator-metadata",
        "provenance",
        "ai",
        0.99,
        "generated with <ComfyUI>",
        (Evidence("workflow with 12 nodes", "PNG text:workflow", 12),),
        decisive=True,
    )


def results(tmp_path: Path) -> list[ScanResult]:
    a = make_png(tmp_path / "a.png", size=(300, 200))
    b = make_jpeg(tmp_path / "b <script>.jpg")
    return [
        ScanResult(str(a), "ai", 0.97, [ai_signal()], sha256="0" * 64, format="PNG"),
        ScanResult(str(b), "unsure", 0.41, [], format="JPEG", width=64, height=48),
        ScanResult(str(tmp_path / "c.jpg"), "error", error=ErrorInfo("truncated", "ends early")),
    ]


def summary_of(items: list[ScanResult]) -> ScanSummary:
    s = ScanSummary()
    for r in items:
        s.add(r)
    s.skipped["hidden"] = 2
    return s


def test_csv_and_jsonl_round_trip(tmp_path: Path) -> None:
    items = results(tmp_path)
    buf = io.StringIO()
    writer = CsvWriter(buf)
    for r in items:
        writer.write(r)
    writer.close(summary_of(items))
    back = [result_from_csv_row(row) for row in csv.DictReader(io.StringIO(buf.getvalue()))]
    assert [r.to_dict() for r in back] == [r.to_dict() for r in items]
    assert buf.getvalue().count("\n") == 4  # newlines inside values never split a row
    lines = io.StringIO()
    jw = JsonlWriter(lines)
    for r in items:
        jw.write(r)
    assert [json.loads(x) for x in lines.getvalue().splitlines()] == [r.to_dict() for r in items]


def test_json_document(tmp_path: Path) -> None:
    items = results(tmp_path)
    buf = io.StringIO()
    write_json(buf, iter(items), summary_of(items))
    doc = json.loads(buf.getvalue())
    assert doc["summary"]["verdicts"] == {"ai": 1, "unsure": 1, "real": 0, "error": 1}
    assert doc["summary"]["skipped"] == 2
    assert doc["results"] == [r.to_dict() for r in items]
    empty = io.StringIO()
    write_json(empty, [], ScanSummary())
    assert json.loads(empty.getvalue())["results"] == []


def test_table_rows(tmp_path: Path) -> None:
    items = results(tmp_path)
    console = Console(file=io.StringIO(), width=300, no_color=True)
    table = TableWriter(console)
    for r in items:
        table.write(r)
    assert isinstance(console.file, io.StringIO)
    text = console.file.getvalue()
    assert "verdict" in text.splitlines()[0]
    assert "ai" in text and "0.97" in text
    assert "generator-metadata: generated with <ComfyUI>" in text
    assert "b <script>.jpg" in text and "ends early" in text


def test_headline() -> None:
    assert headline(ScanResult("x", "error", error=ErrorInfo("t", "broken"))) == "broken"
    assert headline(ScanResult("x", "unsure")) == "no evidence either way"
    assert headline(ScanResult("x", "ai", signals=[ai_signal()])).startswith("generator-metadata")


def _pixel(name: str, verdict: SignalVerdict, score: float, fused: bool) -> SignalResult:
    return SignalResult(
        name, "pixel", verdict, score, f"{name} says {verdict}", (), details={"fused": fused}
    )


def test_headline_prefers_the_signals_that_fed_the_verdict() -> None:
    report_only = _pixel("artifacts", "real", 0.03, fused=False)
    probe = _pixel("clip-probe", "real", 0.2, fused=True)
    assert headline(ScanResult("x", "real", signals=[probe, report_only])).startswith("clip-probe")
    # Unsure: the pixel score that left it unsure explains it, not an evidence-only head.
    inconclusive = _pixel("clip-global", "none", 0.55, fused=True)
    unsure = ScanResult("x", "unsure", signals=[inconclusive, report_only])
    assert headline(unsure).startswith("clip-global")
    # With nothing else to say, an evidence-only signal is still shown.
    assert headline(ScanResult("x", "real", signals=[report_only])).startswith("artifacts")


def test_html_is_self_contained_with_thumbnails_and_heatmaps(tmp_path: Path) -> None:
    items = results(tmp_path)
    heat = tmp_path / "heat.png"
    Image.new("RGB", (30, 20), (255, 0, 0)).save(heat)
    items[0].heatmap = str(heat)
    buf = io.StringIO()
    write_html(buf, iter(items), summary_of(items))
    html = buf.getvalue()
    assert not EXTERNAL.search(html)
    assert html.count("data:image/jpeg;base64,") == 2  # thumbnails of the two decodable images
    assert html.count("data:image/png;base64,") == 1  # the heatmap
    assert "<script>" not in html and "b &lt;script&gt;.jpg" in html  # paths are escaped
    assert "generated with &lt;ComfyUI&gt;" in html and "workflow with 12 nodes" in html
    assert "ends early" in html and "2 × hidden" in html
    assert html.index("a.png") < html.index("b &lt;script&gt;.jpg")  # most suspicious first
    assert "<svg" in html  # p_ai histogram


def test_html_summarises_large_scans(tmp_path: Path) -> None:
    many = [
        ScanResult(f"/img/{i:03d}.jpg", "unsure" if i % 7 else "ai", i / 40, [ai_signal()])
        for i in range(40)
    ]
    buf = io.StringIO()
    write_html(buf, iter(many), summary_of(many), detail_limit=10, top_n=5, thumbnails=False)
    html = buf.getvalue()
    assert "The 5 most suspicious of 40 images" in html
    shown = re.findall(r'class="path">/img/(\d+)\.jpg', html)
    expected = sorted(many, key=suspicion, reverse=True)[:5]
    assert [f"/img/{n}.jpg" for n in shown] == [r.path for r in expected]
    assert "<svg" in html


def test_histogram_svg() -> None:
    svg = histogram_svg([0, 3, 1, 0])
    assert svg.count("<rect") == 4 and "max 3" in svg
    assert "http" not in svg
