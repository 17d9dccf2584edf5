"""What other web pages and hostile clients cannot do to a local server: DNS rebinding (Host),
cross-site requests (Origin, body types), uploads before authentication, framing, over-limit
bodies, and file names or header values that break paths or terminals."""

from __future__ import annotations

import asyncio
import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthcheck.engine.detector import Detector
from synthcheck.service.app import create_app
from synthcheck.service.settings import ServiceSettings

TOKEN = "s3cret-token-for-tests-0123"
LOCAL = "http://localhost"


def _png(value: int = 40) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (24, 24), (value, 20, 20)).save(buf, format="PNG")
    return buf.getvalue()


def _client(**settings: Any) -> TestClient:
    return TestClient(create_app(ServiceSettings(**settings), detector=Detector()), base_url=LOCAL)


@pytest.fixture
def projects(tmp_path: Path) -> TestClient:
    client = _client(home=str(tmp_path / "home"))
    r = client.post("/api/v1/projects", json={"name": "web", "extractors": ["artifacts"]})
    assert r.status_code == 201, r.text
    return client


# ----------------------------------------------------------------------------------- Host


def test_only_own_names_are_served() -> None:
    client = _client()
    for host in ("localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:8000", "[::1]:8000"):
        r = client.get("/api/v1/health", headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
    for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example"):
        r = client.get("/api/v1/projects", headers={"Host": host})
        assert r.status_code == 400, host
        assert r.json()["type"] == "invalid_host"
        assert "--allowed-host" in r.json()["detail"]
    # the page and its assets too: a rebinding page must not read anything
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    # an escaped echo: the header's control characters never reach the message raw
    r = client.get("/api/v1/health", headers={"Host": "evil\x1b[2J.example"})
    assert r.status_code == 400 and "\x1b" not in r.json()["detail"]
    assert "\\x1b" in r.json()["detail"]


def test_wildcard_bind_serves_loopback_and_the_allowed_names_only() -> None:
    client = _client(host="0.0.0.0", token=TOKEN, allowed_hosts=("box.lan",))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/v1/health", headers={**auth, "Host": "box.lan:8000"}).status_code == 200
    assert client.get("/api/v1/health", headers={**auth, "Host": "BOX.LAN"}).status_code == 200
    assert client.get("/api/v1/health", headers={**auth, "Host": "0.0.0.0:8000"}).status_code == 400
    assert client.get("/api/v1/health", headers={**auth, "Host": "other.lan"}).status_code == 400
    bound = _client(host="192.168.7.9", token=TOKEN)
    assert (
        bound.get("/api/v1/health", headers={**auth, "Host": "192.168.7.9:8000"}).status_code == 200
    )
    v6 = _client(host="fd00::5", token=TOKEN)
    assert v6.get("/api/v1/health", headers={**auth, "Host": "[fd00::5]:8000"}).status_code == 200


# --------------------------------------------------------------------------------- Origin


def test_cross_site_form_cannot_add_training_images(projects: TestClient) -> None:
    evil = {"Origin": "http://attacker.example"}
    r = projects.post(
        "/api/v1/projects/web/images",
        files=[("files", ("x.png", _png(), "image/png"))],
        data={"label": "ai"},
        headers=evil,
    )
    assert r.status_code == 403 and r.json()["type"] == "forbidden_origin"
    assert projects.get("/api/v1/projects/web").json()["images"] == 0
    for origin in (
        "null",
        "http://localhost.attacker.example",
        "https://localhost",
        "http://localhost:9",
    ):
        r = projects.delete("/api/v1/projects/web", headers={"Origin": origin})
        assert r.status_code == 403, origin
    # the server's own origin (the web UI) and clients that send none (curl, scripts) pass
    ok = projects.post(
        "/api/v1/projects/web/images",
        files=[("files", ("x.png", _png(), "image/png"))],
        headers={"Origin": LOCAL},
    )
    assert ok.status_code == 200, ok.text
    assert projects.get("/api/v1/projects/web").json()["images"] == 1
    # reads are not state-changing (and CORS keeps their answers from other pages)
    assert projects.get("/api/v1/projects", headers=evil).status_code == 200


def test_text_plain_or_form_posts_cannot_start_training(projects: TestClient) -> None:
    # What a cross-site page can send without a preflight, here even without an Origin header.
    for content_type, body in (
        ("text/plain", "x"),
        ("application/x-www-form-urlencoded", "a=b"),
        ("multipart/form-data; boundary=x", "--x--\r\n"),
    ):
        r = projects.post(
            "/api/v1/projects/web/train", content=body, headers={"Content-Type": content_type}
        )
        assert r.status_code == 415, (content_type, r.text)
    r = projects.post(
        "/api/v1/projects",
        content=json.dumps({"name": "p2"}),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    assert [p["name"] for p in projects.get("/api/v1/projects").json()] == ["web"]
    # an upload route wants a multipart upload, not a text body
    r = projects.post(
        "/api/v1/projects/web/images", content="label=ai", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415


# ---------------------------------------------------------------------- token before body


def _asgi_request(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """Drive ``app`` with a POST whose body is never-ending; returns the status and whether
    anything tried to read the body."""
    read = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read = True
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], read


def test_token_is_checked_before_the_body_is_read() -> None:
    app = create_app(ServiceSettings(token=TOKEN), detector=Detector())
    multipart = [(b"content-type", b"multipart/form-data; boundary=x")]
    status, read = _asgi_request(app, "/api/v1/detect", multipart)
    assert status == 401 and not read
    wrong = [*multipart, (b"authorization", b"Bearer not-the-token-at-all")]
    status, read = _asgi_request(app, "/api/v1/projects/x/images", wrong)
    assert status == 401 and not read


# ------------------------------------------------------------------------------- headers


def test_every_response_refuses_framing() -> None:
    client = _client(max_upload_bytes=1000)
    answers = [
        client.get("/"),
        client.get("/static/app.js"),
        client.get("/api/v1/health"),
        client.get("/api/v1/nothing-here"),
        client.get("/api/v1/health", headers={"Host": "attacker.example"}),
        client.post("/api/v1/detect", files=[("files", ("a.png", b"\0" * 5_000_000, "image/png"))]),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 400, 413]
    for a in answers:
        assert "frame-ancestors 'none'" in a.headers["content-security-policy"]
        assert a.headers["x-frame-options"] == "DENY"
        assert a.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in answers[0].headers["content-security-policy"]


# ------------------------------------------------------------------------------- 413


def test_over_limit_chunked_upload_is_413() -> None:
    client = _client(max_upload_bytes=1000)
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield head
        for _ in range(40):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        "/api/v1/detect",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["type"] == "too_large"


# ------------------------------------------------------------------------- hostile names


def _multipart(filename: bytes, data: bytes) -> tuple[bytes, dict[str, str]]:
    boundary = b"b0undary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename
        + b'"\r\nContent-Type: image/png\r\n\r\n'
        + data
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=b0undary"}


@pytest.mark.parametrize(
    "filename",
    [
        b"..",
        b".",
        b"/",
        b"",
        b"a\x00b.png",
        b"a\x1b[31mred.png",
        b"\x7f.png",
        b"x" * 300 + b".png",
        b"../..",
        b"a/..",
    ],
    ids=[
        "dotdot",
        "dot",
        "slash",
        "empty",
        "nul",
        "escape",
        "del",
        "long",
        "dotdot2",
        "trailing-dotdot",
    ],
)
def test_hostile_upload_names_are_a_clear_4xx(projects: TestClient, filename: bytes) -> None:
    body, headers = _multipart(filename, _png())
    r = projects.post("/api/v1/projects/web/images", content=body, headers=headers)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "file name" in detail
    assert not any(ord(c) < 32 or ord(c) == 127 for c in detail)
    assert projects.get("/api/v1/projects/web").json()["images"] == 0


def _png_cut_in_a_chunk_named(kind: bytes) -> bytes:
    """A PNG that ends inside a chunk whose type is ``kind``: the decoder's message names it."""
    head = _png()[:33]  # signature + IHDR
    return head + struct.pack(">I", 1000) + kind + b"abc"


def test_control_characters_are_escaped_in_result_messages(projects: TestClient) -> None:
    # The truncation message quotes the damaged chunk's type: raw, that is a terminal escape.
    data = _png_cut_in_a_chunk_named(b"\x1b[2J")
    body, headers = _multipart(b"bad\x1b]0;x\x07.png", data)
    r = projects.post("/api/v1/detect", content=body, headers=headers)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["verdict"] == "error"
    shown = result["path"] + result["error"]["message"]
    assert not any(ord(c) < 32 for c in shown), shown
    assert "\\x1b[2J chunk" in result["error"]["message"]


def test_project_upload_failures_name_the_clients_file(projects: TestClient) -> None:
    r = projects.post(
        "/api/v1/projects/web/images",
        files=[("files", ("notes.png", b"not an image", "image/png"))],
    )
    assert r.status_code == 200, r.text
    [failure] = r.json()["failures"]
    assert failure["path"] == "notes.png"
    assert "synthcheck-upload" not in json.dumps(r.json())
