"""Background jobs (project training) run in threads, with a status the client polls."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Job", "JobRegistry"]

JobState = Literal["queued", "running", "done", "failed"]


@dataclass
class Job:
    id: str
    kind: str
    subject: str
    state: JobState = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        now = time.time()
        elapsed = None
        if self.started is not None:
            elapsed = round((self.finished or now) - self.started, 3)
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "state": self.state,
            "elapsed_seconds": elapsed,
            "result": self.result,
            "error": self.error,
        }


class JobRegistry:
    """At most one running job per subject (a project), the newest ``keep`` jobs remembered."""

    def __init__(self, keep: int = 100) -> None:
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, subject: str, work: Callable[[], dict[str, Any]]) -> Job:
        with self._lock:
            for job in self._jobs.values():
                if job.subject == subject and job.state in ("queued", "running"):
                    return job
            job = Job(id=uuid.uuid4().hex, kind=kind, subject=subject)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = min(
                    (j for j in self._jobs.values() if j.state in ("done", "failed")),
                    key=lambda j: j.created,
                    default=None,
                )
                if oldest is None:
                    break
                del self._jobs[oldest.id]

        def run() -> None:
            job.state, job.started = "running", time.time()
            try:
                job.result = work()
                job.state = "done"
            except Exception as exc:  # the job's failure is reported to the client, not raised
                job.error = str(exc) if hasattr(exc, "code") else f"{type(exc).__name__}: {exc}"
                job.state = "failed"
            finally:
                job.finished = time.time()

        threading.Thread(target=run, name=f"synthcheck-{kind}-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)
