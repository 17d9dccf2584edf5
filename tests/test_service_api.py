from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthcheck.engine.detector import Detector
from synthcheck.errors import ConfigError
from synthcheck.intake.image import LoadedImage
from synthcheck.results import SignalResult
from synthcheck.service.app import create_app
from synthcheck.service.settings import ServiceSettings
from synthcheck.service.uploads import display_name

TOKEN = "s3cret-token-for-tests-0123"
# The server answers only to its own names (DNS-rebinding guard); TestClient's default Host,
# "testserver", is not one of them.
LOCAL = "http://localhost"


@dataclass
class _Prediction:
    p_ai: float
    signals: list[SignalResult] = field(default_factory=list)
    heatmap: np.ndarray | None = None


class _RedModel:
    """Test double: p_ai is the mean of the red channel, heatmap a 2x2 grid of it."""

    name = "red-test-model"

    def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
        p = float(image.pixels[..., 0].mean() / 255)
        return _Prediction(p, [], np.full((2, 2), p, dtype=np.float32))


def _png(red: int, size: tuple[int, int] = (48, 32)) -> bytes:
    # A faint checkerboard: a single flat colour is reported as having no picture to judge.
    board = np.indices((size[1], size[0])).sum(axis=0) % 2 * 6
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    pixels[..., 0] = np.clip(red - 3 + board, 0, 255)
    pixels[..., 1:] = (10 + board)[..., None]
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def client() -> TestClient:
    det = Detector(pixel_model=_RedModel())
    return TestClient(
        create_app(ServiceSettings(max_files=3, max_upload_bytes=200_000), detector=det),
        base_url=LOCAL,
    )


def test_health_signals_models(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    names = [s["name"] for s in client.get("/api/v1/signals").json()]
    assert names == sorted(names)
    assert "profiles" in client.get("/api/v1/models").json()


def test_detect_many_files_follows_scan_contract(client: TestClient) -> None:
    files = [
        ("files", ("red.png", _png(250), "image/png")),
        ("files", ("dark.png", _png(5), "image/png")),
        ("files", ("notes.jpg", b"plain text, not an image", "image/jpeg")),
    ]
    body = client.post("/api/v1/detect", files=files).json()
    results = body["results"]
    assert [r["path"] for r in results] == ["red.png", "dark.png", "notes.jpg"]
    assert [r["verdict"] for r in results] == ["ai", "real", "error"]
    for r in results:
        assert {"path", "verdict", "p_ai", "signals", "error"} <= r.keys()
    assert results[2]["error"]["type"] == "not_an_image"
    assert "notes.jpg" in results[2]["error"]["message"]
    assert body["counts"] == {"ai": 1, "real": 1, "error": 1}


def test_heatmap_png_is_served_after_detect(client: TestClient) -> None:
    pytest.importorskip("synthcheck.pixel.heatmap")
    r = client.post(
        "/api/v1/detect?heatmap=true", files=[("files", ("a.png", _png(200), "image/png"))]
    )
    url = r.json()["results"][0]["heatmap_url"]
    png = client.get(url)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (48, 32)
    assert client.get("/api/v1/heatmaps/" + "0" * 64 + ".png").status_code == 404
    assert client.get("/api/v1/heatmaps/../../etc.png").status_code == 404


def test_limits_on_file_count_and_body_size(client: TestClient) -> None:
    many = [("files", (f"{i}.png", _png(i), "image/png")) for i in range(4)]
    r = client.post("/api/v1/detect", files=many)
    assert r.status_code == 413 and "limit is 3" in r.json()["detail"]
    big = [("files", ("big.bin", b"\0" * 1_500_000, "application/octet-stream"))]
    r = client.post("/api/v1/detect", files=big)
    assert r.status_code == 413
    assert client.post("/api/v1/detect").status_code == 422


def test_token_required_and_compared(client: TestClient) -> None:
    app = create_app(ServiceSettings(token=TOKEN), detector=Detector())
    c = TestClient(app, base_url=LOCAL)
    assert c.get("/api/v1/health").status_code == 401
    assert c.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = c.get("/api/v1/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert c.get("/").status_code == 200  # the page itself asks for the token


def test_non_loopback_bind_needs_token_or_insecure() -> None:
    with pytest.raises(ConfigError, match="--token"):
        ServiceSettings(host="0.0.0.0")
    ServiceSettings(host="0.0.0.0", token=TOKEN)
    ServiceSettings(host="0.0.0.0", insecure=True)
    with pytest.raises(ConfigError, match="16 characters"):
        ServiceSettings(token="short")


def test_heatmap_tile_budget_reaches_the_service_workers() -> None:
    from synthcheck.service.state import ServiceState

    with pytest.raises(ConfigError, match="heatmap_tiles must be between 1 and 1024"):
        ServiceSettings(heatmap_tiles=0)
    state = ServiceState(ServiceSettings(profile="fast", heatmap_tiles=5))
    config = state.analysis.config  # type: ignore[attr-defined]
    assert getattr(config.build().pixel_model, "heatmap_tiles", None) == 5


def test_ui_is_served_without_external_references(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "synthcheck" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        text = client.get(asset).text
        assert "http://" not in text and "https://" not in text
    assert "http://" not in page.text and "https://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_no_cors_by_default(client: TestClient) -> None:
    r = client.get("/api/v1/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_internal_errors_do_not_leak_tracebacks() -> None:
    class _Exploding:
        name = "exploding"

        def predict(self, image: LoadedImage, *, heatmap: bool = False) -> _Prediction:
            raise RuntimeError("secret internal detail")

    c = TestClient(
        create_app(detector=Detector(pixel_model=_Exploding())),
        raise_server_exceptions=False,
        base_url=LOCAL,
    )
    r = c.post("/api/v1/detect", files=[("files", ("a.png", _png(1), "image/png"))])
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\a.jpg", "a.jpg"),
        ("", "upload"),
        ("a\x00b.png", "ab.png"),
    ],
)
def test_upload_names_never_become_paths(raw: str, expected: str) -> None:
    assert display_name(raw) == expected
