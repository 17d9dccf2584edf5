"""kill -9 during training: the store opens cleanly, the previous model version stays current and
usable, nothing imported is lost, and training can simply be run again."""

from __future__ import annotations

import textwrap
from pathlib import Path

from killing import kill_when_printed
from synthcheck.training import Project
from test_project_support import make_dataset

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import synthcheck.training.project_train as project_module
    from synthcheck.training import Project

    real_sweep = project_module.run_sweep

    def slow_sweep(*args, **kwargs):
        result = real_sweep(*args, **kwargs)
        print("swept", flush=True)
        time.sleep(60)  # the parent kills us here, after the sweep, before the model is stored
        return result

    project_module.run_sweep = slow_sweep
    with Project.open("p", home=sys.argv[1]) as project:
        project.train(folds=3, force=True)
    """
)


def test_kill_during_training_keeps_previous_model(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = make_dataset(tmp_path / "data", n=10)
    with Project.create("p", extractors=["artifacts"], home=home) as project:
        project.import_label_folders(data)
        first = project.train(folds=3)
        assert first.kept and first.version == 1
        before = project.review(limit=None)
    kill_when_printed(SCRIPT, [str(home)], "swept")
    with Project.open("p", home=home) as project:
        assert len(project.images()) == 20
        assert [m.version for m in project.models()] == [1]
        current = project.current_model()
        assert current is not None and current.version == 1
        after = project.review(limit=None)
        assert [(i.sha256, i.predicted) for i in after] == [(i.sha256, i.predicted) for i in before]
        again = project.train(folds=3, force=True)
        assert again.version == 2
