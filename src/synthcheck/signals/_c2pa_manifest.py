"""Interpret a C2PA manifest store (the JSON that c2pa-python's Reader returns).

Pure functions over the parsed JSON, kept apart from the native reader so that they can be tested
on hand-written stores. Validation failure codes are sorted into three separate questions:

* integrity: do the signature, the assertion hashes and the hard binding to the pixels hold?
* credential: is the signer's certificate trusted, current, unrevoked, and its timestamp sound?
* identity: do CAWG identity assertions (who published it) validate?

Only integrity decides whether a claim can be attributed to these exact bytes; an untrusted
signer is not a broken signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthcheck.signals._source_types import SourceClass, classify_source_type, source_type_code

__all__ = ["ManifestSummary", "SourceClaim", "explain_code", "summarize_store"]

_MAX_DEPTH = 16
_MAX_NODES = 5000

_EXPLANATIONS = {
    "assertion.dataHash.mismatch": "the image bytes changed after signing",
    "assertion.bmffHash.mismatch": "the image bytes changed after signing",
    "assertion.boxesHash.mismatch": "the image bytes changed after signing",
    "assertion.hashedURI.mismatch": "an assertion changed after signing",
    "claimSignature.mismatch": "the claim signature does not verify",
    "claimSignature.missing": "the claim has no signature",
    "signingCredential.untrusted": "the signer is not in the configured trust list",
    "signingCredential.expired": "the signing certificate had expired",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid for signing",
    "ingredient.manifest.missing": "an ingredient's manifest is missing",
    "assertion.required.missing": "a required assertion is missing",
}


def explain_code(code: str) -> str:
    """A plain-words gloss of a C2PA validation status code (the code itself when unknown)."""
    gloss = _EXPLANATIONS.get(code)
    return f"{code} ({gloss})" if gloss else code


@dataclass(frozen=True)
class SourceClaim:
    """One ``digitalSourceType`` found in the provenance chain."""

    value: str
    source_class: SourceClass
    manifest: str
    depth: int  # 0: the active manifest; 1: its ingredients' manifests; ...
    action: str | None = None
    agent: str | None = None

    @property
    def code(self) -> str:
        return source_type_code(self.value)


@dataclass
class ManifestSummary:
    """What the manifest store says, and how its validation came out."""

    active_label: str | None = None
    manifest_count: int = 0
    claim_generator: str | None = None
    signer: str | None = None
    signed_at: str | None = None
    actions: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    source_claims: list[SourceClaim] = field(default_factory=list)
    ingredients: list[str] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    credential_issues: list[str] = field(default_factory=list)
    identity_issues: list[str] = field(default_factory=list)
    state: str | None = None

    @property
    def integrity_valid(self) -> bool:
        return not self.integrity_failures

    @property
    def trusted(self) -> bool:
        return self.state == "Trusted" or (self.integrity_valid and not self.credential_issues)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:500]
    if isinstance(value, dict):
        return _text(value.get("name"))
    return None


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    gen = _text(manifest.get("claim_generator"))
    if gen:
        return gen
    info = manifest.get("claim_generator_info")
    if isinstance(info, list):
        names = []
        for item in info[:8]:
            if isinstance(item, dict) and _text(item.get("name")):
                version = _text(item.get("version"))
                names.append(f"{_text(item.get('name'))}/{version}" if version else item["name"])
        if names:
            return " ".join(str(n) for n in names)
    return None


def _codes(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    return [
        str(e["code"]) for e in entries if isinstance(e, dict) and isinstance(e.get("code"), str)
    ]


def _failure_codes(store: dict[str, Any]) -> list[str]:
    results = store.get("validation_results")
    if isinstance(results, dict):
        codes: list[str] = []
        active = results.get("activeManifest")
        if isinstance(active, dict):
            codes += _codes(active.get("failure"))
        deltas = results.get("ingredientDeltas")
        if isinstance(deltas, list):
            for delta in deltas:
                vd = delta.get("validationDeltas") if isinstance(delta, dict) else None
                if isinstance(vd, dict):
                    codes += _codes(vd.get("failure"))
        return codes
    # Older readers list only the failures, flat.
    return _codes(store.get("validation_status"))


def summarize_store(store: dict[str, Any], state: str | None = None) -> ManifestSummary:
    """Summarise a manifest store (``json.loads(reader.json())``) and its validation state."""
    summary = ManifestSummary(state=state or _text(store.get("validation_state")))
    manifests = store.get("manifests")
    manifests = manifests if isinstance(manifests, dict) else {}
    summary.manifest_count = len(manifests)
    active = store.get("active_manifest")
    summary.active_label = active if isinstance(active, str) else None
    top = manifests.get(active) if isinstance(active, str) else None
    if isinstance(top, dict):
        summary.claim_generator = _claim_generator(top)
        sig = top.get("signature_info")
        if isinstance(sig, dict):
            who = [t for t in (_text(sig.get("issuer")), _text(sig.get("common_name"))) if t]
            summary.signer = " / ".join(dict.fromkeys(who)) or None
            summary.signed_at = _text(sig.get("time"))
    for code in dict.fromkeys(_failure_codes(store)):
        if code.startswith("cawg."):
            summary.identity_issues.append(code)
        elif code.startswith(("signingCredential.", "timeStamp.")):
            summary.credential_issues.append(code)
        else:
            summary.integrity_failures.append(code)
    if summary.active_label:
        _walk_manifest(manifests, summary.active_label, 0, set(), summary, None)
    return summary


def _walk_manifest(
    manifests: dict[str, Any],
    label: str,
    depth: int,
    seen: set[str],
    summary: ManifestSummary,
    relationship: str | None,
) -> None:
    manifest = manifests.get(label)
    if depth > _MAX_DEPTH or label in seen or not isinstance(manifest, dict):
        return
    seen.add(label)
    assertions = manifest.get("assertions")
    for assertion in assertions if isinstance(assertions, list) else []:
        if not isinstance(assertion, dict):
            continue
        alabel = str(assertion.get("label", ""))
        data = assertion.get("data")
        if alabel.startswith("c2pa.actions") and isinstance(data, dict):
            _read_actions(data, label, depth, summary, relationship)
        elif data is not None:
            for value in _find_source_types(data):
                _add_claim(summary, value, label, depth, None, None, relationship)
    ingredients = manifest.get("ingredients")
    for ing in ingredients if isinstance(ingredients, list) else []:
        if not isinstance(ing, dict):
            continue
        if depth == 0:
            title = _text(ing.get("title")) or "untitled"
            rel = _text(ing.get("relationship")) or "ingredient"
            summary.ingredients.append(f"{title} ({rel})")
        child = ing.get("active_manifest")
        if isinstance(child, str):
            _walk_manifest(
                manifests, child, depth + 1, seen, summary, _text(ing.get("relationship"))
            )


def _read_actions(
    data: dict[str, Any], label: str, depth: int, summary: ManifestSummary, rel: str | None
) -> None:
    agents = data.get("softwareAgents")
    actions = data.get("actions")
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict):
            continue
        name = _text(action.get("action")) or "unknown action"
        agent = _text(action.get("softwareAgent"))
        index = action.get("softwareAgentIndex")
        if agent is None and isinstance(agents, list) and isinstance(index, int):
            agent = _text(agents[index]) if 0 <= index < len(agents) else None
        if depth == 0:
            summary.actions.append(f"{name} by {agent}" if agent else name)
        if agent and agent not in summary.agents:
            summary.agents.append(agent)
        dst = action.get("digitalSourceType")
        if isinstance(dst, str) and dst.strip():
            _add_claim(summary, dst, label, depth, name, agent, rel)


def _add_claim(
    summary: ManifestSummary,
    value: str,
    label: str,
    depth: int,
    action: str | None,
    agent: str | None,
    relationship: str | None,
) -> None:
    cls = classify_source_type(value)
    if cls == "ai" and relationship == "componentOf":
        cls = "composite-ai"  # a generated part placed into another image
    summary.source_claims.append(SourceClaim(value.strip()[:300], cls, label, depth, action, agent))


def _find_source_types(data: Any) -> list[str]:
    """Every value under a key named like ``digitalSourceType`` (any namespace prefix)."""
    found: list[str] = []
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack and nodes < _MAX_NODES:
        node, depth = stack.pop()
        nodes += 1
        if depth > _MAX_DEPTH:
            continue
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).lower().endswith("digitalsourcetype") and isinstance(value, str):
                    found.append(value)
                else:
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
    return found
