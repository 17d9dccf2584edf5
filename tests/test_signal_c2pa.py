"""The c2pa signal on files signed at test time with a certificate authority the test creates."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from imagegen import make_jpeg, make_png, make_webp, with_c2pa_box
from synthcheck.errors import ConfigError
from synthcheck.intake import load_image
from synthcheck.signals import create_signal
from synthcheck.signals._c2pa_manifest import summarize_store
from synthcheck.signals.c2pa import TRUST_ANCHORS_ENV, C2paSignal, offline_settings

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@dataclass(frozen=True)
class SigningCA:
    root_pem: str
    chain_pem: bytes
    key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "synthcheck tests"),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.fixture(scope="module")
def ca() -> SigningCA:
    """A root CA and an ES256 end-entity signing certificate with the emailProtection EKU."""
    return make_ca()


@pytest.fixture(scope="module")
def other_ca() -> SigningCA:
    """A second, unrelated CA: a configured trust list that did not sign the test files."""
    return make_ca()


def make_ca() -> SigningCA:
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("synthcheck test root"))
        .issuer_name(_name("synthcheck test root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("synthcheck test signer"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return SigningCA(
        root_pem=root.public_bytes(pem).decode(),
        chain_pem=cert.public_bytes(pem) + root.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def _manifest(source_type: str | None, *, agent: str = "TestGen 1.0") -> dict[str, Any]:
    action: dict[str, Any] = {"action": "c2pa.created", "softwareAgent": {"name": agent}}
    if source_type:
        action["digitalSourceType"] = IPTC + source_type
    return {
        "claim_generator_info": [{"name": "synthcheck-tests", "version": "1.0"}],
        "title": "test.jpg",
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [action]}}],
    }


def _signer(ca: SigningCA) -> c2pa.Signer:
    # No timestamp authority: signing stays offline.
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, ca.chain_pem, ca.key_pem, None)
    return c2pa.Signer.from_info(info)


def sign_jpeg(
    ca: SigningCA, src: Path, dest: Path, manifest: dict[str, Any], mime: str = "image/jpeg"
) -> Path:
    """Sign ``src`` with ``manifest`` and write the signed file to ``dest``."""
    out = io.BytesIO()
    with c2pa.Builder.from_json(manifest) as builder:
        builder.sign(_signer(ca), mime, io.BytesIO(src.read_bytes()), out)
    dest.write_bytes(out.getvalue())
    return dest


def tamper(path: Path) -> Path:
    """Flip bytes of the entropy-coded image data (just before the EOI marker)."""
    data = bytearray(path.read_bytes())
    for offset in (40, 60, 80):
        data[-offset] ^= 0x5A
    out = path.with_name("tampered-" + path.name)
    out.write_bytes(bytes(data))
    return out


@pytest.fixture
def plain_jpeg(tmp_path: Path) -> Path:
    return make_jpeg(tmp_path / "plain.jpg", (96, 64), seed=3)


def analyze(path: Path, **kwargs: Any) -> Any:
    return create_signal("c2pa", **kwargs).analyze(load_image(path))


def test_ai_declaration_with_valid_signature_is_decisive(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "ai.jpg", _manifest("trainedAlgorithmicMedia"))
    result = analyze(signed)
    assert result.verdict == "ai" and result.decisive
    assert result.score >= 0.95
    assert result.details["integrity"] == "valid"
    assert result.details["trust"] == "untrusted"  # no anchors configured: trust is separate
    assert "trainedAlgorithmicMedia" in result.details["digital_source_types"]
    assert result.details["tool"] == "TestGen 1.0"
    fields = {e.field for e in result.evidence}
    assert {"c2pa.integrity", "c2pa.trust", "c2pa.digitalSourceType", "c2pa.actions"} <= fields


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_ai_declaration_in_png_and_webp(ca: SigningCA, tmp_path: Path, fmt: str) -> None:
    maker = make_png if fmt == "png" else make_webp
    src = maker(tmp_path / f"plain.{fmt}", (64, 48), seed=5)
    manifest = _manifest("trainedAlgorithmicMedia")
    signed = sign_jpeg(ca, src, tmp_path / f"ai.{fmt}", manifest, mime=f"image/{fmt}")
    result = analyze(signed)
    assert result.verdict == "ai" and result.decisive
    assert result.details["integrity"] == "valid"


def test_trust_anchors_make_the_signer_trusted(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "ai.jpg", _manifest("trainedAlgorithmicMedia"))
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(ca.root_pem)
    result = analyze(signed, trust_anchors=anchors)
    assert result.details["trust"] == "trusted"
    assert result.details["integrity"] == "valid"


def test_trust_anchors_from_environment(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "cam.jpg", _manifest("digitalCapture"))
    anchors = tmp_path / "anchors.pem"
    anchors.write_text(ca.root_pem)
    monkeypatch.setenv(TRUST_ANCHORS_ENV, str(anchors))
    result = analyze(signed)
    assert result.verdict == "real" and result.decisive and result.score <= 0.1


def test_capture_claim_from_untrusted_signer_is_weak(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "cam.jpg", _manifest("digitalCapture"))
    result = analyze(signed)
    assert result.verdict == "real"
    assert not result.decisive
    assert result.score >= 0.4


def test_tampered_pixels_break_integrity_not_trust(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "ai.jpg", _manifest("trainedAlgorithmicMedia"))
    result = analyze(tamper(signed), trust_anchors=ca.root_pem)
    assert result.details["integrity"] == "invalid"
    assert "assertion.dataHash.mismatch" in result.details["failure_codes"]
    assert result.verdict == "ai" and not result.decisive  # the claim may not fit these pixels
    assert "image bytes changed" in " ".join(e.message for e in result.evidence)


def test_tampered_capture_claim_is_no_evidence(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "cam.jpg", _manifest("digitalCapture"))
    result = analyze(tamper(signed), trust_anchors=ca.root_pem)
    assert result.verdict == "none" and result.score == 0.5
    assert result.details["integrity"] == "invalid"


def test_generator_named_without_an_ai_source_type(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    manifest = _manifest("digitalCreation", agent="Adobe Firefly")
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "ff.jpg", manifest)
    result = analyze(signed)
    assert result.verdict == "ai" and not result.decisive
    assert result.details["tool"] == "Adobe Firefly"


def test_no_manifest_is_no_evidence(plain_jpeg: Path) -> None:
    result = analyze(plain_jpeg)
    assert result.verdict == "none" and result.score == 0.5 and not result.evidence


def test_broken_c2pa_box_is_reported_not_raised(plain_jpeg: Path, tmp_path: Path) -> None:
    broken = with_c2pa_box(plain_jpeg, content=b"\x00garbage" * 20, out=tmp_path / "broken.jpg")
    result = analyze(broken)
    assert result.verdict == "none" and result.score == 0.5
    assert result.summary == "C2PA manifest present but unreadable"
    assert [e.field for e in result.evidence] == ["c2pa.error"]


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    body: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/c2pa")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def manifest_server() -> Iterator[tuple[str, type[_CountingHandler]]]:
    handler = type("Handler", (_CountingHandler,), {"hits": [], "body": b""})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/manifest.c2pa", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_remote_manifest_is_never_fetched(
    ca: SigningCA,
    plain_jpeg: Path,
    tmp_path: Path,
    manifest_server: tuple[str, type[_CountingHandler]],
) -> None:
    url, handler = manifest_server
    out = io.BytesIO()
    with c2pa.Builder.from_json(_manifest("trainedAlgorithmicMedia")) as builder:
        builder.set_no_embed()
        builder.set_remote_url(url)
        handler.body = builder.sign(
            _signer(ca), "image/jpeg", io.BytesIO(plain_jpeg.read_bytes()), out
        )
    remote = tmp_path / "remote.jpg"
    remote.write_bytes(out.getvalue())
    result = analyze(remote)
    assert handler.hits == []
    assert result.verdict == "none"
    assert any(e.field == "c2pa.remote" and e.value == url for e in result.evidence)


def test_offline_settings_switch_every_fetch_off() -> None:
    settings = offline_settings("PEM")
    assert settings["verify"]["remote_manifest_fetch"] is False
    assert settings["verify"]["ocsp_fetch"] is False
    assert settings["core"]["allowed_network_hosts"] == []
    assert settings["trust"]["user_anchors"] == "PEM"


def test_unreadable_trust_anchors_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not be read"):
        C2paSignal(trust_anchors=tmp_path / "missing.pem")
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("hello")
    with pytest.raises(ConfigError, match="no PEM certificate"):
        C2paSignal(trust_anchors=not_pem)


def test_summary_walks_ingredients_and_sorts_codes() -> None:
    store = {
        "active_manifest": "m2",
        "manifests": {
            "m2": {
                "claim_generator_info": [{"name": "Editor", "version": "2"}],
                "assertions": [
                    {"label": "c2pa.actions.v2", "data": {"actions": [{"action": "c2pa.opened"}]}}
                ],
                "ingredients": [
                    {"title": "a.png", "relationship": "parentOf", "active_manifest": "m1"},
                    {"title": "b.png", "relationship": "componentOf", "active_manifest": "m0"},
                ],
            },
            "m1": {
                "assertions": [
                    {
                        "label": "c2pa.actions",
                        "data": {
                            "softwareAgents": [{"name": "GPT-4o"}],
                            "actions": [
                                {
                                    "action": "c2pa.created",
                                    "softwareAgentIndex": 0,
                                    "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
                                }
                            ],
                        },
                    }
                ]
            },
            "m0": {
                "assertions": [
                    {
                        "label": "stds.iptc.photo-metadata",
                        "data": {"Iptc4xmpExt:DigitalSourceType": IPTC + "algorithmicMedia"},
                    }
                ],
                "ingredients": [{"active_manifest": "m2"}],  # a cycle must not loop
            },
        },
        "validation_results": {
            "activeManifest": {
                "failure": [
                    {"code": "signingCredential.expired"},
                    {"code": "cawg.ica.did_unavailable"},
                ]
            },
            "ingredientDeltas": [
                {"validationDeltas": {"failure": [{"code": "assertion.dataHash.mismatch"}]}}
            ],
        },
    }
    s = summarize_store(store, "Invalid")
    assert s.claim_generator == "Editor/2"
    assert s.actions == ["c2pa.opened"]
    assert s.ingredients == ["a.png (parentOf)", "b.png (componentOf)"]
    claims = {(c.code, c.source_class, c.depth, c.agent) for c in s.source_claims}
    assert ("trainedAlgorithmicMedia", "ai", 1, "GPT-4o") in claims
    assert ("algorithmicMedia", "composite-ai", 1, None) in claims
    assert s.credential_issues == ["signingCredential.expired"]
    assert s.identity_issues == ["cawg.ica.did_unavailable"]
    assert s.integrity_failures == ["assertion.dataHash.mismatch"]
    assert not s.integrity_valid and not s.trusted


def test_summary_of_garbage_store_is_empty() -> None:
    s = summarize_store({"manifests": [1, 2], "active_manifest": 5, "validation_status": "x"})
    assert s.manifest_count == 0 and s.source_claims == [] and s.integrity_valid


def test_without_a_trust_list_the_signer_is_not_checked_rather_than_untrusted(
    ca: SigningCA,
    other_ca: SigningCA,
    plain_jpeg: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 27: genuine Adobe and OpenAI credentials read "signer not trusted" with no anchors.
    monkeypatch.delenv(TRUST_ANCHORS_ENV, raising=False)
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "ai.jpg", _manifest("trainedAlgorithmicMedia"))
    result = analyze(signed)
    assert "signer not checked: no trust list configured" in result.summary
    assert "C2PA trust list" in result.summary  # where the README explains how to add one
    assert "not trusted" not in result.summary
    anchors = tmp_path / "other.pem"
    anchors.write_text(other_ca.root_pem)
    assert "signer not trusted" in analyze(signed, trust_anchors=anchors).summary


def test_tampered_manifest_leads_the_headline_and_the_table(
    ca: SigningCA, plain_jpeg: Path, tmp_path: Path
) -> None:
    from synthcheck.engine.detector import Detector
    from synthcheck.reports.rows import headline, signal_word

    manifest = _manifest("digitalCreation")  # neither an AI nor a capture declaration
    signed = sign_jpeg(ca, plain_jpeg, tmp_path / "made.jpg", manifest)
    tampered = tamper(signed)
    result = Detector().scan_file(tampered)
    c2pa_result = next(s for s in result.signals if s.name == "c2pa")
    assert c2pa_result.verdict == "none"  # an invalid manifest is no evidence of AI...
    assert signal_word(c2pa_result) == "tampered"  # ...but the signal table says what it is
    assert c2pa_result.summary.startswith("C2PA manifest INVALID")
    assert headline(result) == f"c2pa: {c2pa_result.summary}"

    class CameraPixels:  # the issue's case: the pixels lead the headline ("camera-made")
        name = "camera"

        def predict(self, image: Any, *, heatmap: bool = False) -> Any:
            from types import SimpleNamespace

            from synthcheck.results import SignalResult

            pix = SignalResult("pix", "pixel", "real", 0.1, "pixels look camera-made")
            return SimpleNamespace(p_ai=0.1, signals=[pix])

    result = Detector(pixel_model=CameraPixels()).scan_file(tampered)
    assert result.verdict == "real"
    assert headline(result).startswith("C2PA manifest INVALID")
    assert headline(result).endswith("pix: pixels look camera-made")
