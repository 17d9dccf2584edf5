"""One contract test over every registered signal, in the manner of scikit-learn's common tests."""

from __future__ import annotations

import json
import pickle
import random
import re
from dataclasses import replace

import pytest

from imagegen import make_jpeg, make_png, make_webp
from synthcheck.intake import load_image
from synthcheck.intake.image import ContainerMetadata, LoadedImage
from synthcheck.results import SignalResult
from synthcheck.signals import create_signal, get_signal_class, list_signals

SIGNALS = list_signals()
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def test_registry_is_populated() -> None:
    assert {"c2pa", "xmp-iptc", "generator-metadata", "camera-exif"} <= set(SIGNALS)


@pytest.mark.parametrize("name", SIGNALS)
def test_declaration(name: str) -> None:
    cls = get_signal_class(name)
    assert KEBAB.match(cls.name) and cls.name == name
    assert isinstance(cls.description, str) and len(cls.description.strip()) > 20
    assert cls.kind in ("provenance", "pixel")
    assert list_signals().count(name) == 1
    assert name in list_signals(kind=cls.kind)


def _check(result: SignalResult, name: str) -> None:
    cls = get_signal_class(name)
    assert isinstance(result, SignalResult)
    assert result.name == name and result.kind == cls.kind
    assert result.verdict in ("ai", "real", "none")
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.summary, str) and result.summary
    if result.verdict == "none":
        assert result.score == 0.5 and not result.decisive
    json.dumps(result.to_dict())  # the JSONL contract must serialise


@pytest.fixture(scope="module")
def plain_images(tmp_path_factory: pytest.TempPathFactory) -> list[LoadedImage]:
    root = tmp_path_factory.mktemp("plain")
    paths = [
        make_jpeg(root / "a.jpg", (96, 64), seed=1),
        make_png(root / "b.png", (64, 64), mode="RGBA", seed=2),
        make_webp(root / "c.webp", (80, 48), seed=3),
    ]
    return [load_image(p) for p in paths]


@pytest.mark.parametrize("name", SIGNALS)
def test_plain_image_gives_a_valid_result(name: str, plain_images: list[LoadedImage]) -> None:
    signal = create_signal(name)
    for image in plain_images:
        result = signal.analyze(image)
        _check(result, name)
        if signal.kind == "provenance":
            assert result.verdict == "none", f"{name} claimed {result.verdict} on a plain image"


GARBAGE = [
    ContainerMetadata(exif=b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\xee" * 64),
    ContainerMetadata(exif=b"MM\x00*" + bytes(range(256)) * 4),
    ContainerMetadata(xmp="<x:xmpmeta><rdf:RDF><unclosed & broken"),
    ContainerMetadata(
        xmp="\x00" * 100 + "<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><a>&b;</a>"
    ),
    ContainerMetadata(
        text={
            "parameters": "\x00\xff Steps: x",
            "prompt": "{",
            "workflow": "[1, 2",
            "Comment": "{}",
        }
    ),
    ContainerMetadata(text={"prompt": json.dumps({"1": {"class_type": None, "inputs": [1]}})}),
    ContainerMetadata(text={"workflow": json.dumps({"nodes": [None, 3, {"type": 5}]})}),
    ContainerMetadata(c2pa=True),
]


@pytest.mark.parametrize("name", SIGNALS)
@pytest.mark.parametrize("meta", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_metadata_never_raises(
    name: str, meta: ContainerMetadata, plain_images: list[LoadedImage]
) -> None:
    image = replace(plain_images[0], metadata=meta)
    _check(create_signal(name).analyze(image), name)


@pytest.mark.parametrize("name", SIGNALS)
def test_mutated_bytes_never_raise(name: str, plain_images: list[LoadedImage]) -> None:
    rng = random.Random(f"mutate-{name}")
    base = plain_images[0]
    signal = create_signal(name)
    for _ in range(25):
        data = bytearray(base.data)
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        exif = bytes(data[: rng.randint(0, 200)])
        meta = ContainerMetadata(
            exif=b"II*\x00" + exif, xmp=data[:300].decode("latin-1"), c2pa=True
        )
        _check(signal.analyze(replace(base, data=bytes(data), metadata=meta)), name)


@pytest.mark.parametrize("name", SIGNALS)
def test_signals_pickle_for_worker_processes(name: str, plain_images: list[LoadedImage]) -> None:
    signal = create_signal(name)
    expected = signal.analyze(plain_images[0]).to_dict()
    clone = pickle.loads(pickle.dumps(signal))
    assert clone.analyze(plain_images[0]).to_dict() == expected


def test_signals_hold_no_state_between_images(plain_images: list[LoadedImage]) -> None:
    for name in SIGNALS:
        signal = create_signal(name)
        first = signal.analyze(plain_images[0]).to_dict()
        signal.analyze(plain_images[1])
        assert signal.analyze(plain_images[0]).to_dict() == first
