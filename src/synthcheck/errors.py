"""The synthcheck exception tree.

Every error synthcheck raises on purpose derives from :class:`SynthcheckError`::

    SynthcheckError
    ├── InputError                 a file the user gave cannot be used (always names the file)
    │   ├── FileUnreadableError    missing, a directory, permission denied, I/O failure
    │   ├── NotAnImageError        the bytes are not an image format synthcheck knows
    │   ├── UnsupportedFormatError an image format or variant synthcheck cannot decode
    │   ├── TruncatedImageError    the file ends before the image data does
    │   ├── CorruptImageError      the image data is damaged
    │   ├── ImageTooLargeError     over the pixel budget (decompression-bomb guard)
    │   └── ScanTimeoutError       decoding or analysis ran past the per-file time limit
    ├── BackboneError              a pretrained backbone is missing or broken
    │   └── BackboneNotInstalledError  (message carries the install command)
    ├── ModelError                 a detector / head file is missing, corrupt or incompatible
    ├── ConfigError                an invalid parameter or option value (also a ValueError; exit 2)
    ├── ProjectError               train-your-own projects: unknown project, bad label, ...
    │   └── ProjectNotFoundError   no project, image or model version by that name (HTTP 404)
    └── DataError                  a data set unfit for training or evaluation (also a ValueError)

Each error has a stable ``code`` (used in the JSONL ``error.type`` field) and a plain-words message.
Each class also carries what the front ends make of it: ``http_status`` (the HTTP API's status, 400
unless said otherwise) and ``exit_code`` (the CLI's exit status: 2 for a usage error, else 1).
Front ends read these attributes, never the message text.
"""

from __future__ import annotations

from os import PathLike, fspath

from synthcheck._text import printable

__all__ = [
    "BackboneError",
    "BackboneNotInstalledError",
    "ConfigError",
    "CorruptImageError",
    "DataError",
    "FileUnreadableError",
    "ImageTooLargeError",
    "InputError",
    "ModelError",
    "NotAnImageError",
    "ProjectError",
    "ProjectNotFoundError",
    "ScanTimeoutError",
    "SynthcheckError",
    "TruncatedImageError",
    "UnsupportedFormatError",
]


class SynthcheckError(Exception):
    """Base class of every error synthcheck raises on purpose."""

    code = "error"
    #: The HTTP API's status for this error.
    http_status: int = 400
    #: The CLI's exit status: 1 (something failed), 2 (a usage error: fix the command line).
    exit_code: int = 1


class InputError(SynthcheckError):
    """A file the user gave cannot be used. ``path`` names it and the message says why."""

    code = "input_error"

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        self.path = fspath(path)
        # Reasons can quote damaged metadata (a chunk name, a tag): never let its control bytes
        # reach a terminal. The path stays as given (results keep it reversibly); only the
        # message shows it escaped.
        self.reason = printable(reason)
        super().__init__(f"{printable(self.path)}: {self.reason}")


class FileUnreadableError(InputError):
    code = "unreadable"


class NotAnImageError(InputError):
    code = "not_an_image"


class UnsupportedFormatError(InputError):
    code = "unsupported"


class TruncatedImageError(InputError):
    code = "truncated"


class CorruptImageError(InputError):
    code = "corrupt"


class ImageTooLargeError(InputError):
    code = "too_large"


class ScanTimeoutError(InputError):
    code = "timeout"


class BackboneError(SynthcheckError):
    code = "backbone_error"


class BackboneNotInstalledError(BackboneError):
    """A backbone's weights are not installed; the message gives the command that installs them."""

    code = "backbone_not_installed"

    def __init__(self, name: str, install_command: str) -> None:
        self.name = name
        self.install_command = install_command
        super().__init__(f"backbone {name!r} is not installed; install it with: {install_command}")


class ModelError(SynthcheckError):
    code = "model_error"


class ConfigError(SynthcheckError, ValueError):
    code = "config_error"
    exit_code = 2


class ProjectError(SynthcheckError):
    code = "project_error"


class ProjectNotFoundError(ProjectError):
    """The project, image or model version asked for does not exist. A class of its own so that
    front ends (the HTTP API's 404) can tell it from other project errors without reading the
    message, which quotes user-chosen names."""

    code = "not_found"
    http_status = 404


class DataError(SynthcheckError, ValueError):
    code = "data_error"
