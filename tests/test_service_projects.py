"""HTTP API of train-your-own projects: create, upload, train as a job, review, relabel, predict."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthcheck.engine.detector import Detector
from synthcheck.errors import (
    ConfigError,
    DataError,
    ProjectError,
    ProjectNotFoundError,
    SynthcheckError,
)
from synthcheck.service.app import create_app
from synthcheck.service.settings import ServiceSettings
from test_project_support import image_pixels


def _png(kind: str, seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image_pixels(kind, seed)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = ServiceSettings(home=str(tmp_path / "home"), max_files=20)
    return TestClient(create_app(settings, detector=Detector()), base_url="http://localhost")


def _upload(
    client: TestClient, name: str, kind: str, seeds: range, label: str | None
) -> dict[str, Any]:
    files = [("files", (f"{kind}_{s}.png", _png(kind, s), "image/png")) for s in seeds]
    data = {"label": label} if label else {}
    r = client.post(f"/api/v1/projects/{name}/images", files=files, data=data)
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def _wait(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("training job did not finish in 120 s")


def test_project_lifecycle_over_http(client: TestClient) -> None:
    r = client.post("/api/v1/projects", json={"name": "web", "extractors": ["artifacts"]})
    assert r.status_code == 201, r.text
    assert r.json()["labels"] == ["real", "ai"]
    assert client.post("/api/v1/projects", json={"name": "web"}).status_code == 400

    rep = _upload(client, "web", "real", range(12), "real")
    assert rep["added"] == 12
    _upload(client, "web", "ai", range(10_000, 10_012), "ai")
    dup = _upload(client, "web", "ai", range(10_000, 10_002), "ai")
    assert dup["merged_duplicates"] == 2 and dup["added"] == 0
    _upload(client, "web", "ai", range(10_100, 10_102), None)  # unlabelled

    bad = client.post(
        "/api/v1/projects/web/images",
        files=[("files", ("x.png", _png("real", 99), "image/png"))],
        data={"label": "cat"},
    )
    assert bad.status_code == 400 and "cat" in bad.json()["detail"]

    job = client.post("/api/v1/projects/web/train?folds=3").json()
    assert job["state"] in ("queued", "running", "done")
    done = _wait(client, job["id"])
    assert done["state"] == "done", done
    report = done["result"]
    assert set(report["cv_accuracy_per_class"]) == {"real", "ai"}
    assert report["cv_auc"] is not None and report["cv_auc"] > 0.9
    assert report["n_images"] >= 24

    items = client.get("/api/v1/projects/web/review?sort=confidence&limit=100").json()
    assert len(items) >= 24
    confidences = [i["confidence"] for i in items if i["confidence"] is not None]
    assert confidences == sorted(confidences)  # least confident first
    # reviews show the uploaded file names, not the temporary upload paths
    assert all(Path(i["path"]).name.split("_")[0] in ("real", "ai") for i in items)
    unlabelled = client.get("/api/v1/projects/web/review?filter=unlabelled").json()
    assert len(unlabelled) == 2 and all(i["label"] is None for i in unlabelled)

    target = items[0]["sha256"]
    new_label = "ai" if items[0]["label"] == "real" else "real"
    r = client.put(f"/api/v1/projects/web/images/{target}/label", json={"label": new_label})
    assert r.status_code == 200 and r.json()["label"] == new_label
    thumb = client.get(f"/api/v1/projects/web/images/{target}/thumbnail?size=64")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"

    pred = client.post(
        "/api/v1/projects/web/predict",
        files=[
            ("files", ("new_ai.png", _png("ai", 10_500), "image/png")),
            ("files", ("new_real.png", _png("real", 500), "image/png")),
        ],
    ).json()["results"]
    assert [p["path"] for p in pred] == ["new_ai.png", "new_real.png"]
    assert pred[0]["p_ai"] > pred[1]["p_ai"]
    assert any(s["name"] == "project:web" for s in pred[0]["signals"])

    assert client.delete(f"/api/v1/projects/web/images/{target}").status_code == 204
    assert client.get("/api/v1/projects/web").json()["images"] == 25
    listed = client.get("/api/v1/projects").json()
    assert [p["name"] for p in listed] == ["web"]
    assert client.delete("/api/v1/projects/web").status_code == 204


def test_unknown_project_and_job_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/projects/nope").status_code == 404
    assert client.post("/api/v1/projects/nope/train").status_code == 404
    assert client.get("/api/v1/jobs/" + "0" * 32).status_code == 404


def test_status_follows_the_error_type_not_its_words(client: TestClient) -> None:
    # A project whose own name contains "unknown project": its "no trained model yet" error
    # quotes the name, which must not turn a bad request into a 404.
    name = "unknown project"
    r = client.post("/api/v1/projects", json={"name": name, "extractors": ["artifacts"]})
    assert r.status_code == 201, r.text
    pred = client.post(
        f"/api/v1/projects/{name}/predict",
        files=[("files", ("a.png", _png("real", 1), "image/png"))],
    )
    assert pred.status_code == 400, pred.text
    assert "no trained model yet" in pred.json()["detail"]
    # ... while an image that is not there is "not found", whatever the message says.
    missing = client.put(f"/api/v1/projects/{name}/images/{'ab' * 32}/label", json={"label": "ai"})
    assert missing.status_code == 404, missing.text
    thumb = client.get(f"/api/v1/projects/{name}/images/{'ab' * 32}/thumbnail")
    assert thumb.status_code == 404, thumb.text


class _ConflictError(ProjectError):
    """An error class the service has never heard of: its status is read off the class."""

    code = "conflict"
    http_status = 409


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ProjectNotFoundError("a message without the usual words"), 404),
        (DataError("no project named 'x': not found"), 400),
        (ConfigError("unknown sort"), 400),
        (_ConflictError("busy"), 409),
    ],
)
def test_project_routes_answer_with_the_error_class_status(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, error: SynthcheckError, status: int
) -> None:
    import synthcheck.training as training

    def boom(*args: object, **kwargs: object) -> NoReturn:
        raise error

    monkeypatch.setattr(training.Project, "open", boom)
    monkeypatch.setattr(training, "list_projects", boom)
    for r in (
        client.get("/api/v1/projects"),
        client.get("/api/v1/projects/p"),
        client.get("/api/v1/projects/p/review"),
        client.put(f"/api/v1/projects/p/images/{'ab' * 32}/label", json={"label": "ai"}),
    ):
        assert r.status_code == status, r.text
        assert r.json() == {"detail": str(error), "type": error.code}


def test_slow_uploads_do_not_hold_up_other_project_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from synthcheck.training import Project

    settings = ServiceSettings(home=str(tmp_path / "home"), workers=1)
    # One event loop for both threads' requests (as under uvicorn): entered as a context.
    client = TestClient(create_app(settings, detector=Detector()), base_url="http://localhost")
    client.__enter__()
    assert (
        client.post("/api/v1/projects", json={"name": "p", "extractors": ["artifacts"]}).status_code
        == 201
    )
    release = threading.Event()
    entered = threading.Event()
    real = Project.import_items

    def slow_import(self: Project, *args: object, **kwargs: object) -> object:
        # Stands in for an upload whose images take long to decode: it holds the decode slot.
        entered.set()
        release.wait(60)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Project, "import_items", slow_import)
    upload = threading.Thread(
        target=lambda: client.post(
            "/api/v1/projects/p/images", files=[("files", ("a.png", _png("real", 1), "image/png"))]
        )
    )
    upload.start()
    try:
        assert entered.wait(30)
        t0 = time.monotonic()
        assert [p["name"] for p in client.get("/api/v1/projects").json()] == ["p"]
        assert client.get("/api/v1/projects/p").status_code == 200
        assert client.get("/api/v1/health").status_code == 200
        assert time.monotonic() - t0 < 5  # not the 60 s the upload would hold them for
        assert upload.is_alive()
    finally:
        release.set()
        upload.join(60)
        client.__exit__(None, None, None)
