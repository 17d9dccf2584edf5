"""synthcheck never phones home: no socket to a non-loopback address during a scan, and the
scan, training and server flows work inside a network namespace that has no network at all."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from synthcheck.engine.detector import Detector

_watching = False
_contacts: list[tuple[str, Any]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
        _contacts.append((event, args))


sys.addaudithook(_audit)


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str) or host.startswith("/"):
        return True  # a Unix socket path
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _images(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Sampler: Euler, Seed: 1, Model: sd_xl_base_1.0")
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        folder / "a.png", pnginfo=info
    )
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        folder / "b.jpg", quality=90
    )
    return folder


def test_scan_opens_no_socket_to_a_non_loopback_address(tmp_path: Path) -> None:
    global _watching
    folder = _images(tmp_path / "imgs")
    detector = Detector()
    _contacts.clear()
    _watching = True
    try:
        results = [detector.scan_file(p) for p in sorted(folder.iterdir())]
    finally:
        _watching = False
    assert all(r.verdict != "error" for r in results)
    foreign = [(e, a) for e, a in _contacts if e != "socket.getaddrinfo" and not _is_loopback(a[1])]
    lookups = [a for e, a in _contacts if e == "socket.getaddrinfo" and not _is_loopback(a[0])]
    assert not foreign, foreign
    assert not lookups, lookups


def _can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -n")


@needs_netns
def test_scan_works_without_any_network(tmp_path: Path) -> None:
    folder = _images(tmp_path / "imgs")
    code = (
        "import sys, json\n"
        "from synthcheck.engine.detector import Detector\n"
        "d = Detector()\n"
        "rs = [d.scan_file(p).to_dict() for p in sys.argv[1:]]\n"
        "print(json.dumps([r['verdict'] for r in rs]))\n"
    )
    files = [str(p) for p in sorted(folder.iterdir())]
    proc = subprocess.run(
        ["unshare", "-n", "--", sys.executable, "-c", code, *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '["ai", "unsure"]'


NETNS_SCRIPT = r"""
set -eu
ip link set lo up
# Route every address over loopback so that lookups and connection attempts are seen, not lost.
ip route add local 0.0.0.0/0 dev lo
ip -6 route add local ::/0 dev lo 2>/dev/null || true
export SYNTHCHECK_HOME="$WORK/home"
py="$PYTHON"
$py "$TESTS/netns_packet_log.py" "$WORK/packets.log" &
logger=$!
trap 'kill $logger 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q ready "$WORK/packets.log" 2>/dev/null && break; sleep 0.1; done
# Positive control: a lookup that the logger must see, so an empty log means something.
$py -c "import socket
try: socket.getaddrinfo('control.example', 80)
except OSError: pass"
# scan (provenance + default pixel model when installed), JSONL to a file
$py -m synthcheck.cli.main scan "$WORK/imgs" --format jsonl --output "$WORK/scan.jsonl" \
    --quiet --workers 2
# a training run on a tiny project
$py -m synthcheck.cli.main project create p --features artifacts >/dev/null
$py -m synthcheck.cli.main project import p "$WORK/data" >/dev/null
$py -m synthcheck.cli.main project train p --folds 3 --format json > "$WORK/train.json"
# the server's detect flow over loopback, inside the namespace
$py "$TESTS/netns_serve_check.py"
sleep 0.5
"""


@needs_netns
@pytest.mark.slow
def test_scan_training_and_server_work_inside_a_netns_without_network(tmp_path: Path) -> None:
    import json

    from test_project_support import make_dataset

    _images(tmp_path / "imgs")
    make_dataset(tmp_path / "data", n=8)
    env = {
        **os.environ,
        "WORK": str(tmp_path),
        "PYTHON": sys.executable,
        "TESTS": str(Path(__file__).parent),
    }
    proc = subprocess.run(
        ["unshare", "-n", "--", "bash", "-c", NETNS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The logger may lag behind on a busy machine, so the control's queries are told apart by
    # name rather than by when they were logged.
    logged = [json.loads(line) for line in (tmp_path / "packets.log").read_text().splitlines()[1:]]
    control = [c for c in logged if c.get("name") == "control.example"]
    contacts = [c for c in logged if c.get("name") != "control.example"]
    assert control, "the packet logger did not see the control lookup"
    assert contacts == [], f"DNS queries or connection attempts: {contacts[:10]}"
    rows = [json.loads(line) for line in (tmp_path / "scan.jsonl").read_text().splitlines()]
    assert sorted(r["verdict"] for r in rows if r["path"].endswith("a.png")) == ["ai"]
    assert all(r["error"] is None for r in rows)
    train = json.loads((tmp_path / "train.json").read_text())
    assert set(train["cv_accuracy_per_class"]) == {"real", "ai"}
    served = json.loads((tmp_path / "serve.json").read_text())
    assert served["results"][0]["verdict"] == "ai"
