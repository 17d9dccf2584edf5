"""Run by tests/test_no_network.py inside a network namespace: start ``synthcheck serve`` on
loopback, post one image to the detect API with the standard library only, save the answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

work = Path(os.environ["WORK"])
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
cmd = [
    sys.executable,
    "-m",
    "synthcheck.cli.main",
    "serve",
    "--port",
    str(port),
    "--profile",
    "provenance",
]
server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    )
    body = (
        head.encode() + (work / "imgs" / "a.png").read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/detect",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        (work / "serve.json").write_text(json.dumps(json.load(response)))
finally:
    server.terminate()
    server.wait(timeout=30)
