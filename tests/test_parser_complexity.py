"""Every text parser runs in linear time on hostile input (issue: a 1 KB file hung ``scan``).

Each case feeds a 1 MB adversarial string to one parser and a benign string of the same length to
the same parser, and bounds the adversarial time by a ratio of the benign time measured in the
same process: no wall-clock constant. The measurement runs in a forked child so that a parser
that does hang (a backtracking regular expression holds the GIL) is killed instead of hanging
the test run; the child's deadline is generous and only matters on failure.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from imagegen import exif_bytes, make_jpeg, make_png
from synthcheck.signals._ai_tools import match_ai_tool, match_editor
from synthcheck.signals._generators import find_generators, parse_a1111
from synthcheck.signals._xmp import XmpError, parse_xmp

SIZE = 1_000_000
# Adversarial input may cost this many times a benign string of the same length. Linear parsers
# stay within a few times; the quadratic settings regex this guards against was >1000x at 40 KB.
RATIO = 25
# A child that has not finished by then is hung (benign inputs take milliseconds).
DEADLINE_S = 60.0


def _pad(prefix: str, unit: str) -> str:
    return (prefix + unit * (SIZE // len(unit) + 1))[:SIZE]


BENIGN = _pad("", "a photo of a lighthouse at dusk, dramatic sky, ")

# Strings that drive backtracking patterns and naive scanners into their worst cases.
HOSTILE = {
    "settings letters": _pad("Steps: 20, ", "a"),
    "settings spaced words": _pad("Steps: 20, ", "ab "),
    "settings open quotes": _pad("Steps: 20, ", 'k: ", '),
    "settings backslashes": _pad('Steps: 20, k: "', "\\"),
    "settings colons": _pad("Steps: 20, ", ":"),
    "settings brackets": _pad("Steps: 20, ", "(-/"),
    "many settings lines": _pad("", "Steps: 1, Seed: 2\n"),
    "job id spaces": _pad("Job ID:", " "),
    "version spaces": _pad("--v", " "),
    "dream spaces": _pad("", " -S"),
    "json nesting": _pad("", "{"),
    "json list nesting": _pad('{"a":', "["),
    "tool names": _pad("", "stable stable_ dall dall- gpt-4"),
}


def _generators(text: str) -> object:
    labels = (
        "PNG text:parameters",
        "PNG text:prompt",
        "PNG text:workflow",
        "PNG text:Comment",
        "PNG text:Software",
        "PNG text:Dream",
        "PNG text:sd-metadata",
        "EXIF:UserComment",
    )
    return find_generators({label: text for label in labels})


def _xmp(text: str) -> object:
    try:
        return parse_xmp(f"<x:xmpmeta xmlns:x='adobe:ns:meta/'>{text}</x:xmpmeta>")
    except XmpError:
        return None


PARSERS: dict[str, Callable[[str], object]] = {
    "find_generators": _generators,
    "parse_a1111": parse_a1111,
    "match_ai_tool": match_ai_tool,
    "match_editor": match_editor,
    "parse_xmp": _xmp,
}


def _best_of(fn: Callable[[str], object], text: str, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - start)
    return best


def _measure(
    parser: str, case: str, out: multiprocessing.queues.Queue[tuple[float, float]]
) -> None:
    fn = PARSERS[parser]
    out.put((_best_of(fn, BENIGN), _best_of(fn, HOSTILE[case])))


def _timed_in_child(
    target: Callable[..., None], args: tuple[object, ...], what: str
) -> tuple[float, float]:
    """Run ``target(*args, queue)`` in a forked child; its (benign, hostile) seconds, or a failure
    if it runs past the deadline (a hung parser holds the GIL, so only a process can be ended)."""
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.queues.Queue[tuple[float, float]] = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, out))
    child.start()
    child.join(DEADLINE_S)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{what} ran past {DEADLINE_S:.0f} s (super-linear)")
    assert child.exitcode == 0, f"{what} crashed"
    return out.get(timeout=5)


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_parsers_are_linear_on_hostile_text(parser: str) -> None:
    slow: list[str] = []
    for case in HOSTILE:
        benign, hostile = _timed_in_child(_measure, (parser, case), f"{parser} on {case!r}")
        # A floor of 1 ms keeps a parser that rejects benign text at once from dividing by ~0.
        if hostile > RATIO * max(benign, 1e-3):
            slow.append(f"{case}: {hostile * 1e3:.1f} ms vs benign {benign * 1e3:.1f} ms")
    assert not slow, f"{parser} is super-linear: " + "; ".join(slow)


def test_settings_line_parses_quotes_and_escapes() -> None:
    parsed = parse_a1111(
        'a cat\nSteps: 4, Sampler: Euler a, Lora hashes: "a: 1, b: \\"2\\"", '
        "Seed: 7, junk without colon, Size: 64x64"
    )
    assert parsed is not None
    settings = parsed["settings"]
    assert settings["Lora hashes"] == 'a: 1, b: \\"2\\"'
    assert settings["Sampler"] == "Euler a"
    assert settings["Size"] == "64x64"
    assert settings["Seed"] == "7"


def test_unterminated_quote_runs_to_the_next_comma() -> None:
    parsed = parse_a1111('x\nSteps: 4, Note: "open, Seed: 7, Size: 64x64')
    assert parsed is not None
    assert parsed["settings"]["Seed"] == "7"
    assert parsed["settings"]["Note"] == '"open'


def _file_with(tmp_path: Path, where: str, text: str, name: str) -> Path:
    if where == "png-ztxt":
        return make_png(tmp_path / f"{name}.png", ztxt={"parameters": text})
    # A JPEG segment holds at most 64 KB: the comment as such, UserComment as UTF-16.
    if where == "jpeg-comment":
        return make_jpeg(tmp_path / f"{name}.jpg", comment=text[:65_000])
    return make_jpeg(tmp_path / f"{name}.jpg", exif=exif_bytes(user_comment=text[:30_000]))


def _scan_both(
    benign: Path, hostile: Path, out: multiprocessing.queues.Queue[tuple[float, float]]
) -> None:
    from synthcheck.engine.build import build_detector

    detector = build_detector("provenance")
    detector.scan_file(benign)  # warm-up: imports, registry

    def scan(path: str) -> object:
        return detector.scan_file(path)

    out.put((_best_of(scan, str(benign), 2), _best_of(scan, str(hostile), 2)))


@pytest.mark.parametrize("where", ["png-ztxt", "jpeg-comment", "exif-usercomment"])
def test_hostile_parameters_file_scans_promptly(tmp_path: Path, where: str) -> None:
    """The reported 1 KB file: ``Steps: 20, `` then a run of letters, in three places."""
    benign = _file_with(tmp_path, where, "Steps: 20, " + BENIGN, "benign")
    hostile = _file_with(tmp_path, where, HOSTILE["settings letters"], "hostile")
    benign_s, hostile_s = _timed_in_child(
        _scan_both, (benign, hostile), f"provenance scan of a hostile {where} file"
    )
    assert hostile_s <= RATIO * max(benign_s, 1e-3), (hostile_s, benign_s)
