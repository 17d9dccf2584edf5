"""A kill -9 during an import leaves a store that opens and keeps every committed batch."""

from __future__ import annotations

import textwrap
from pathlib import Path

from killing import kill_when_printed
from synthcheck.training import Project
from synthcheck.training.importing import BATCH_SIZE
from test_project_support import make_images

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from synthcheck.training import Project
    from synthcheck.training.sources import from_folder
    import synthcheck.training.importing as importing

    calls = 0
    real_cache = importing.cache_features

    def slow_cache(*args, **kwargs):
        global calls
        calls += 1
        out = real_cache(*args, **kwargs)
        print(f"committed {calls}", flush=True)
        time.sleep(0.5 if calls < 2 else 60)  # the parent kills us during the third batch
        return out

    importing.cache_features = slow_cache
    project = Project.open("p", home=sys.argv[1])
    project.import_folder(sys.argv[2], label="ai")
    """
)


def test_kill_during_import_keeps_committed_batches(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "imgs"
    make_images(folder, "ai", BATCH_SIZE * 3)
    Project.create("p", extractors=["artifacts"], home=home).close()
    kill_when_printed(SCRIPT, [str(home), str(folder)], "committed 2")
    with Project.open("p", home=home) as project:
        rows = project.images()
        assert len(rows) == 2 * BATCH_SIZE
        assert all(r.label == "ai" for r in rows)
        # The cached features of the committed batches survive as well.
        from synthcheck.training.features import create_extractor

        ex = create_extractor("artifacts")
        cached = project.store.get_features(ex.name, ex.version, [r.sha256 for r in rows])
        assert len(cached) == 2 * BATCH_SIZE
        # And the store is writable again: the import can simply be run again.
        again = project.import_folder(folder, label="ai")
        assert (again.added, again.merged) == (BATCH_SIZE, 2 * BATCH_SIZE)
