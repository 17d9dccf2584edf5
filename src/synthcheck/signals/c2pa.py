"""C2PA Content Credentials: signed statements of how the image was made.

The manifest store is read from the file's own bytes with c2pa-python, strictly offline: remote
manifests, OCSP and every other network access are switched off in the reader's settings, so a
manifest stored only at a URL is reported as such and never fetched. Integrity (signature and
content hashes) and signer trust are judged and reported separately: an untrusted signer is not
a broken signature.

Trust anchors (PEM) can be given to the signal, or through the environment variable
``SYNTHCHECK_C2PA_TRUST_ANCHORS`` naming a PEM bundle file; without them every signer is
"untrusted" and only AI declarations (which nobody forges to their own disadvantage) are decisive.
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from synthcheck.errors import ConfigError
from synthcheck.intake.image import LoadedImage
from synthcheck.results import Evidence, SignalResult
from synthcheck.signals._ai_tools import match_ai_tool
from synthcheck.signals._c2pa_manifest import (
    ManifestSummary,
    SourceClaim,
    explain_code,
    summarize_store,
)
from synthcheck.signals.base import Signal
from synthcheck.signals.registry import register_signal

__all__ = ["TRUST_ANCHORS_ENV", "C2paSignal", "offline_settings"]

TRUST_ANCHORS_ENV = "SYNTHCHECK_C2PA_TRUST_ANCHORS"
_URL = re.compile(r"https?://\S+")


def offline_settings(trust_anchors: str | None = None) -> dict[str, Any]:
    """c2pa-rs reader settings that keep validation on and every network access off."""
    settings: dict[str, Any] = {
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        # An empty allow-list denies every host: no DID resolution, no status lists, nothing.
        "core": {"allowed_network_hosts": []},
    }
    if trust_anchors:
        settings["trust"] = {"user_anchors": trust_anchors}
    return settings


def _load_anchors(trust_anchors: str | os.PathLike[str] | None) -> str | None:
    source: str | os.PathLike[str] | None = trust_anchors
    if source is None:
        source = os.environ.get(TRUST_ANCHORS_ENV) or None
    if source is None:
        return None
    text = os.fspath(source)
    if "-----BEGIN CERTIFICATE-----" in text:
        return text
    try:
        pem = Path(text).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"C2PA trust anchors {text!r} could not be read: {exc}") from None
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ConfigError(f"C2PA trust anchors {text!r} hold no PEM certificate")
    return pem


@register_signal
class C2paSignal(Signal):
    """Reads the C2PA manifest store: integrity, signer trust, actions and digitalSourceType."""

    name = "c2pa"
    description = (
        "C2PA Content Credentials: a signed manifest declaring how the image was made "
        "(digitalSourceType, actions, claim generator), with integrity and signer trust "
        "checked separately and offline."
    )
    kind = "provenance"

    def __init__(self, *, trust_anchors: str | os.PathLike[str] | None = None) -> None:
        self.trust_anchors = _load_anchors(trust_anchors)
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        # Native reader contexts stay in their process; worker processes make their own.
        return {"trust_anchors": self.trust_anchors}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.trust_anchors = state["trust_anchors"]
        self._local = threading.local()

    def _context(self) -> Any:
        ctx = getattr(self._local, "context", None)
        if ctx is None:
            import c2pa

            ctx = c2pa.Context.from_dict(offline_settings(self.trust_anchors))
            self._local.context = ctx
        return ctx

    def analyze(self, image: LoadedImage) -> SignalResult:
        try:
            import c2pa
        except (ImportError, OSError) as exc:
            return self.none(f"C2PA reader unavailable ({exc}); manifests not checked")
        present = image.metadata.c2pa
        if not present and image.mime not in _supported_mime_types():
            return self.none("no C2PA manifest")
        mime = image.mime if image.mime in _supported_mime_types() else ""
        try:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(image.data), None, self._context())
            if reader is None:
                return self.none("no C2PA manifest")
            with reader:
                state = reader.get_validation_state()
                store = json.loads(reader.json())
        except c2pa.C2paError as exc:
            return self._unreadable(str(exc), present)
        except (ValueError, TypeError) as exc:  # malformed JSON from the native side
            return self._unreadable(f"{type(exc).__name__}: {exc}", present)
        if not isinstance(store, dict):
            return self._unreadable("manifest store is not a JSON object", present)
        return self._judge(summarize_store(store, state))

    def _unreadable(self, message: str, present: bool) -> SignalResult:
        message = message.strip()[:400]
        if message.startswith("Remote"):
            url = _URL.search(message)
            where = url.group(0) if url else "a remote location"
            return self.none(
                "C2PA manifest is stored remotely and was not fetched (scanning is offline)",
                [Evidence(f"manifest referenced at {where}; not fetched", "c2pa.remote", where)],
            )
        if not present:
            return self.none("no C2PA manifest")
        return self.none(
            "C2PA manifest present but unreadable",
            [Evidence(f"the manifest could not be read: {message}", "c2pa.error", message)],
        )

    def _trust_words(self, s: ManifestSummary) -> str:
        # Without trust anchors every signer fails the trust check, genuine Adobe and OpenAI
        # credentials included: that is "not checked", not "not trusted".
        if s.trusted:
            return "signer trusted"
        return "signer not trusted" if self.trust_anchors is not None else NOT_CHECKED

    def _judge(self, s: ManifestSummary) -> SignalResult:
        evidence = _describe(s, self._trust_words(s))
        details: dict[str, Any] = {
            "manifest": True,
            "integrity": "valid" if s.integrity_valid else "invalid",
            "failure_codes": s.integrity_failures,
            "trust": "trusted" if s.trusted else "untrusted",
            "credential_codes": s.credential_issues,
            "claim_generator": s.claim_generator,
            "signer": s.signer,
            "actions": s.actions,
            "digital_source_types": sorted({c.code for c in s.source_claims}),
        }
        ai = [c for c in s.source_claims if c.source_class in ("ai", "composite-ai")]
        if ai:
            # The most direct declaration: a plain AI source type before a composite, the image's
            # own manifest before its ingredients'.
            claim = min(ai, key=lambda c: (c.source_class != "ai", c.depth))
            return self._ai_claim(s, claim, evidence, details)
        capture = [c for c in s.source_claims if c.source_class == "capture"]
        if capture:
            return self._capture_claim(s, capture[0], evidence, details)
        tool = next(
            (t for t in (match_ai_tool(a) for a in [s.claim_generator or "", *s.agents]) if t),
            None,
        )
        if tool:
            details["tool"] = tool
            return self.result(
                "ai",
                0.85 if s.integrity_valid else 0.65,
                f"C2PA manifest names the generator {tool} without an AI digitalSourceType; "
                f"{_integrity_words(s)}, {self._trust_words(s)}",
                evidence,
                details=details,
            )
        if not s.integrity_valid:
            return self.result(
                "none",
                0.5,
                f"C2PA manifest INVALID: it {_integrity_words(s)}, so it was altered after "
                "signing or does not belong to these pixels; no AI or capture source type "
                "declared",
                evidence,
                details=details,
            )
        return self.result(
            "none",
            0.5,
            f"C2PA manifest present, no AI or capture source type declared; "
            f"{_integrity_words(s)}, {self._trust_words(s)}",
            evidence,
            details=details,
        )

    def _ai_claim(
        self,
        s: ManifestSummary,
        claim: SourceClaim,
        evidence: list[Evidence],
        details: dict[str, Any],
    ) -> SignalResult:
        tool = claim.agent or s.claim_generator
        details["tool"] = tool
        where = "the image" if claim.depth == 0 else "an ingredient of the image"
        what = f"C2PA manifest declares {where} as {claim.code}"
        what += f" ({tool})" if tool else ""
        if s.integrity_valid:
            # Decisive even from an untrusted signer: nobody forges a label against themselves.
            return self.result(
                "ai",
                0.99 if claim.source_class == "ai" else 0.97,
                f"{what}; {_integrity_words(s)}, {self._trust_words(s)}",
                evidence,
                decisive=True,
                details=details,
            )
        return self.result(
            "ai",
            0.8,
            f"{what}, but the manifest {_integrity_words(s)}: it may not belong to these pixels",
            evidence,
            details=details,
        )

    def _capture_claim(
        self,
        s: ManifestSummary,
        claim: SourceClaim,
        evidence: list[Evidence],
        details: dict[str, Any],
    ) -> SignalResult:
        if s.integrity_valid and s.trusted:
            return self.result(
                "real",
                0.05,
                f"C2PA manifest from a trusted signer declares {claim.code}; {_integrity_words(s)}",
                evidence,
                decisive=True,
                details=details,
            )
        if s.integrity_valid:
            return self.result(
                "real",
                0.4,
                f"C2PA manifest declares {claim.code}, but {self._trust_words(s)} (weak evidence)",
                evidence,
                details=details,
            )
        return self.result(
            "none",
            0.5,
            f"C2PA manifest declares {claim.code}, but it {_integrity_words(s)}",
            evidence,
            details=details,
        )


def _integrity_words(s: ManifestSummary) -> str:
    if s.integrity_valid:
        return "signature and content hashes valid"
    return "fails validation (" + ", ".join(s.integrity_failures[:3]) + ")"


#: Where the README explains the trust list (named in every "not checked" message).
TRUST_LIST_HELP = "see 'C2PA trust list' in the README"
NOT_CHECKED = f"signer not checked: no trust list configured ({TRUST_LIST_HELP})"


def _describe(s: ManifestSummary, trust_words: str) -> list[Evidence]:
    ev = [
        Evidence(
            f"C2PA manifest store with {s.manifest_count} manifest(s); active manifest made by "
            f"{s.claim_generator or 'an unnamed claim generator'}",
            "c2pa.claim_generator",
            s.claim_generator,
        )
    ]
    if s.signer:
        when = f" at {s.signed_at}" if s.signed_at else ""
        ev.append(Evidence(f"signed by {s.signer}{when}", "c2pa.signer", s.signer))
    if s.integrity_valid:
        ev.append(
            Evidence(
                "integrity: valid (signature and content hashes match)", "c2pa.integrity", "valid"
            )
        )
    else:
        ev.append(
            Evidence(
                "integrity: INVALID: "
                + "; ".join(explain_code(c) for c in s.integrity_failures[:5]),
                "c2pa.integrity",
                s.integrity_failures,
            )
        )
    if s.trusted:
        ev.append(Evidence("signer trust: trusted", "c2pa.trust", "trusted"))
    elif trust_words == NOT_CHECKED:
        ev.append(Evidence(NOT_CHECKED, "c2pa.trust", "not-checked"))
    else:
        reasons = "; ".join(explain_code(c) for c in s.credential_issues[:4]) or "not trusted"
        ev.append(Evidence(f"signer trust: {reasons}", "c2pa.trust", s.credential_issues))
    if s.actions:
        ev.append(Evidence("actions: " + ", ".join(s.actions[:10]), "c2pa.actions", s.actions))
    for claim in s.source_claims[:10]:
        where = (
            "active manifest" if claim.depth == 0 else f"ingredient manifest (depth {claim.depth})"
        )
        by = f" by {claim.agent}" if claim.agent else ""
        act = f"action {claim.action}{by} " if claim.action else ""
        ev.append(
            Evidence(
                f"{act}declares digitalSourceType {claim.code} in the {where}",
                "c2pa.digitalSourceType",
                claim.value,
            )
        )
    if s.ingredients:
        ev.append(
            Evidence(
                "ingredients: " + ", ".join(s.ingredients[:10]), "c2pa.ingredients", s.ingredients
            )
        )
    if s.identity_issues:
        ev.append(
            Evidence(
                "identity assertion issues: " + ", ".join(s.identity_issues[:5]),
                "c2pa.identity",
                s.identity_issues,
            )
        )
    return ev


_MIME_TYPES: frozenset[str] | None = None


def _supported_mime_types() -> frozenset[str]:
    global _MIME_TYPES
    if _MIME_TYPES is None:
        try:
            import c2pa

            _MIME_TYPES = frozenset(c2pa.Reader.get_supported_mime_types())
        except Exception:  # an unusable native library reads nothing
            _MIME_TYPES = frozenset()
    return _MIME_TYPES
