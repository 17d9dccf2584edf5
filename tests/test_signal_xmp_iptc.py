"""The xmp-iptc signal on files carrying XMP and IPTC-IIM written at test time."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from imagegen import XMP_AI, insert_jpeg_segment, make_jpeg, make_png, make_webp, xmp_packet
from synthcheck.intake import load_image
from synthcheck.intake.containers import iter_jpeg_segments, jpeg_iptc_blocks
from synthcheck.results import SignalResult
from synthcheck.signals import create_signal
from synthcheck.signals._ai_tools import match_ai_tool
from synthcheck.signals._iptc_iim import read_iim
from synthcheck.signals._xmp import XmpError, parse_xmp

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def analyze(path: Path) -> SignalResult:
    return create_signal("xmp-iptc").analyze(load_image(path))


def read_jpeg_iim(data: bytes) -> dict[str, list[str]]:
    """What intake hands over (the blocks) as the signal reads it."""
    return read_iim(jpeg_iptc_blocks(data, iter_jpeg_segments(data)))


def iim_app13(fields: dict[int, str]) -> bytes:
    """A Photoshop APP13 payload holding IPTC-IIM record-2 datasets."""
    iim = b"".join(
        b"\x1c\x02" + bytes([num]) + struct.pack(">H", len(v.encode())) + v.encode()
        for num, v in fields.items()
    )
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    resource += iim + (b"\x00" if len(iim) % 2 else b"")
    return b"Photoshop 3.0\x00" + resource


def test_trained_algorithmic_media_is_decisive_but_unsigned(tmp_path: Path) -> None:
    result = analyze(make_jpeg(tmp_path / "a.jpg", xmp=XMP_AI))
    assert result.verdict == "ai" and result.decisive and result.score >= 0.95
    assert "unsigned" in result.summary
    assert result.details["digital_source_types"] == ["trainedAlgorithmicMedia"]


@pytest.mark.parametrize("maker", ["png", "webp"])
def test_declaration_read_from_png_and_webp(tmp_path: Path, maker: str) -> None:
    path = (
        make_png(tmp_path / "a.png", xmp=XMP_AI)
        if maker == "png"
        else make_webp(tmp_path / "a.webp", xmp=XMP_AI)
    )
    assert analyze(path).verdict == "ai"


def test_element_form_and_google_credit(tmp_path: Path) -> None:
    body = (
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
        f"<Iptc4xmpExt:DigitalSourceType>{IPTC}compositeWithTrainedAlgorithmicMedia"
        "</Iptc4xmpExt:DigitalSourceType>"
        "<photoshop:Credit>Made with Google AI</photoshop:Credit>"
        "</rdf:Description>"
    )
    result = analyze(make_jpeg(tmp_path / "g.jpg", xmp=xmp_packet(raw_body=body)))
    assert result.verdict == "ai" and result.decisive
    assert result.details["tool"] == "Google AI"
    assert result.details["digital_source_types"] == ["compositeWithTrainedAlgorithmicMedia"]


def test_creator_tool_naming_a_generator(tmp_path: Path) -> None:
    xmp = xmp_packet({"xmp:CreatorTool": "Adobe Firefly"})
    result = analyze(make_jpeg(tmp_path / "f.jpg", xmp=xmp))
    assert result.verdict == "ai" and result.decisive
    assert result.details["tool"] == "Adobe Firefly"


def test_history_software_agent_in_a_sequence(tmp_path: Path) -> None:
    body = (
        '<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
        'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#">'
        "<xmpMM:History><rdf:Seq>"
        '<rdf:li stEvt:action="created" stEvt:softwareAgent="Adobe Photoshop 25.0"/>'
        '<rdf:li rdf:parseType="Resource"><stEvt:action>edited</stEvt:action>'
        "<stEvt:softwareAgent>Midjourney</stEvt:softwareAgent></rdf:li>"
        "</rdf:Seq></xmpMM:History></rdf:Description>"
    )
    result = analyze(make_jpeg(tmp_path / "h.jpg", xmp=xmp_packet(raw_body=body)))
    assert result.verdict == "ai"
    assert result.details["tool"] == "Midjourney"
    assert result.details["editors"] == ["Adobe Photoshop"]


def test_iptc_ai_system_fields(tmp_path: Path) -> None:
    xmp = xmp_packet({"Iptc4xmpExt:AISystemUsed": "SuperGen 3"})
    result = analyze(make_jpeg(tmp_path / "s.jpg", xmp=xmp))
    assert result.verdict == "ai" and result.decisive
    assert result.details["tool"] == "SuperGen 3"


def test_capture_declaration_is_weak_real(tmp_path: Path) -> None:
    xmp = xmp_packet({"Iptc4xmpExt:DigitalSourceType": IPTC + "digitalCapture"})
    result = analyze(make_jpeg(tmp_path / "c.jpg", xmp=xmp))
    assert result.verdict == "real" and not result.decisive
    assert 0.4 <= result.score < 0.5


def test_editor_only_is_no_evidence(tmp_path: Path) -> None:
    xmp = xmp_packet({"xmp:CreatorTool": "Adobe Photoshop Lightroom Classic 12.0"})
    result = analyze(make_jpeg(tmp_path / "e.jpg", xmp=xmp))
    assert result.verdict == "none" and result.score == 0.5
    assert "edited with Adobe" in result.summary


def test_no_metadata(tmp_path: Path) -> None:
    result = analyze(make_jpeg(tmp_path / "n.jpg"))
    assert result.verdict == "none" and not result.evidence


def test_iptc_iim_credit(tmp_path: Path) -> None:
    plain = make_jpeg(tmp_path / "p.jpg")
    data = insert_jpeg_segment(plain.read_bytes(), 0xED, iim_app13({110: "Made with Google AI"}))
    path = tmp_path / "iim.jpg"
    path.write_bytes(data)
    assert read_jpeg_iim(data) == {"Credit": ["Made with Google AI"]}
    result = analyze(path)
    assert result.verdict == "ai" and result.details["tool"] == "Google AI"
    assert any(e.field == "iptc:Credit" for e in result.evidence)


@pytest.mark.parametrize(
    "payload",
    [b"", b"Photoshop 3.0\x00", b"Photoshop 3.0\x008BIM\x04\x04\xff", b"\xff" * 40],
)
def test_damaged_iim_reads_as_nothing(tmp_path: Path, payload: bytes) -> None:
    data = insert_jpeg_segment(make_jpeg(tmp_path / "p.jpg").read_bytes(), 0xED, payload)
    assert read_jpeg_iim(data) == {}


def test_intake_extracts_the_iim_blocks_and_the_signal_does_not_reread_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    import synthcheck.intake.containers as containers

    plain = make_jpeg(tmp_path / "p.jpg")
    data = insert_jpeg_segment(plain.read_bytes(), 0xED, iim_app13({110: "Made with Google AI"}))
    path = tmp_path / "iim.jpg"
    path.write_bytes(data)
    image = load_image(path)
    iim = b"\x1c\x02\x6e" + struct.pack(">H", 19) + b"Made with Google AI"
    assert image.metadata.iptc_iim == (iim,)
    assert load_image(plain).metadata.iptc_iim == ()

    # The signal reads what intake collected: the bytes gone, the file gone, the walkers broken.
    def no_walk(*args: object) -> object:
        raise AssertionError("the signal walked the container again")

    monkeypatch.setattr(containers, "iter_jpeg_segments", no_walk)
    monkeypatch.setattr(containers, "jpeg_iptc_blocks", no_walk)
    path.unlink()
    stripped = dataclasses.replace(image, data=b"", path=str(path))
    result = create_signal("xmp-iptc").analyze(stripped)
    assert result.verdict == "ai" and result.details["tool"] == "Google AI"
    assert any(e.field == "iptc:Credit" for e in result.evidence)


def test_malformed_xmp_is_noted(tmp_path: Path) -> None:
    xmp = xmp_packet(raw_body="<rdf:Description><unclosed></rdf:Description>")
    result = analyze(make_jpeg(tmp_path / "m.jpg", xmp=xmp))
    assert result.verdict == "none"
    assert any(e.field == "xmp.error" for e in result.evidence)


def test_xml_bomb_is_refused_quickly() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        + ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
    ).replace("&lol0;", "&lol;")
    start = time.perf_counter()
    with pytest.raises(XmpError):
        parse_xmp(bomb)
    assert time.perf_counter() - start < 1.0


def test_xmp_values_are_bounded() -> None:
    items = "".join(f"<rdf:li>k{i}</rdf:li>" for i in range(30_000))
    body = (
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject></rdf:Description>"
    )
    props = parse_xmp(xmp_packet(raw_body=body))
    assert 0 < len(props.get("dc", "subject")) <= 20_000


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("Adobe Firefly", "Adobe Firefly"),
        ("DALL·E 3", "OpenAI DALL-E"),
        ("Made with Google AI", "Google AI"),
        ("Microsoft Responsible AI Image Provenance", "Microsoft Designer"),
        ("FLUX.1 [dev]", "FLUX"),
        ("Adobe Photoshop 25.0 (Macintosh)", None),
        ("Imagen: Juan Pérez / Agencia", None),  # Spanish "image", not Google Imagen
        ("Fluxus Studio", None),
        ("Canon EOS R5", None),
    ],
)
def test_generator_names_are_matched_narrowly(text: str, tool: str | None) -> None:
    assert match_ai_tool(text) == tool
