"""Entry point of the ``synthcheck`` command. Importing a command module registers its commands."""

from __future__ import annotations

# One import per command module (each registers its commands on ``app``).
import sys

from synthcheck.cli import calibrate as _calibrate  # noqa: F401
from synthcheck.cli import evaluate as _evaluate  # noqa: F401
from synthcheck.cli import project as _project  # noqa: F401
from synthcheck.cli import project_evaluate as _project_evaluate  # noqa: F401
from synthcheck.cli import scan as _scan  # noqa: F401
from synthcheck.cli import serve as _serve  # noqa: F401
from synthcheck.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    # CSV and JSONL rows on stdout carry file names as the user's file system has them: a name
    # that is not UTF-8 goes out as its original bytes instead of aborting the scan.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    app()


if __name__ == "__main__":
    main()
