"""Expanding files and folders: recursion, symlink loops, skips counted, path lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagegen import make_jpeg, make_png
from synthcheck.engine.walk import WalkStats, expand_paths, read_path_list
from synthcheck.errors import ConfigError


def names(paths: list[str]) -> list[str]:
    return [Path(p).name for p in paths]


def test_recursive_sorted_and_images_only(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "b.jpg")
    make_png(tmp_path / "a.PNG")
    make_jpeg(tmp_path / "deep" / "er" / "c.jpeg")
    (tmp_path / "readme.md").write_text("x")
    (tmp_path / ".hidden.jpg").write_bytes(b"x")
    stats = WalkStats()
    found = list(expand_paths([tmp_path], stats=stats))
    assert names(found) == ["a.PNG", "b.jpg", "c.jpeg"]
    assert stats.skipped == {
        "no image extension (use --all-files to scan it)": 1,
        "hidden": 1,
    }
    every = list(expand_paths([tmp_path], all_files=True))
    assert "readme.md" in names(every)


def test_symlink_loop_terminates(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "top" / "x.jpg")
    make_jpeg(tmp_path / "top" / "inner" / "y.jpg")
    (tmp_path / "top" / "inner" / "loop").symlink_to(tmp_path / "top")
    (tmp_path / "top" / "again").symlink_to(tmp_path / "top" / "inner")
    stats = WalkStats()
    found = list(expand_paths([tmp_path / "top"], stats=stats))
    assert sorted(names(found)) == ["x.jpg", "y.jpg"]
    assert stats.skipped["folder already visited (symbolic link loop or repeated folder)"] == 2


def test_links_fifos_and_duplicates(tmp_path: Path) -> None:
    real = make_jpeg(tmp_path / "real.jpg")
    (tmp_path / "link.jpg").symlink_to(real)
    (tmp_path / "broken.jpg").symlink_to(tmp_path / "gone.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    stats = WalkStats()
    found = list(expand_paths([tmp_path, real, tmp_path / "pipe.jpg"], stats=stats))
    assert names(found) == ["link.jpg", "real.jpg"]  # a symlinked file is scanned; FIFOs never
    assert stats.duplicates == 1
    assert stats.skipped["broken symbolic link or vanished file"] == 1
    assert stats.skipped["a FIFO, not a regular file"] == 2
    assert stats.n_skipped == 3
    assert len(stats.examples) == 3


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or folder"):
        list(expand_paths([tmp_path / "missing.jpg"]))
    stats = WalkStats()
    assert list(expand_paths([tmp_path / "missing.jpg"], stats=stats, missing="skip")) == []
    assert stats.n_skipped == 1
    kept = list(expand_paths([tmp_path / "missing.jpg"], missing="keep"))
    assert kept == [str(tmp_path / "missing.jpg")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any folder")
def test_unreadable_folder_is_skipped(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    make_jpeg(locked / "x.jpg")
    locked.chmod(0)
    try:
        stats = WalkStats()
        assert list(expand_paths([tmp_path], stats=stats)) == []
        assert any(r.startswith("unreadable folder") for r in stats.skipped)
    finally:
        locked.chmod(0o755)


def test_plain_path_list(tmp_path: Path) -> None:
    lst = tmp_path / "lists" / "files.txt"
    lst.parent.mkdir()
    lst.write_text("# a comment\n\n  ../a.jpg  \n/abs/b.png\nsub dir/c.jpg\n")
    assert list(read_path_list(lst)) == [
        str(tmp_path / "lists" / "../a.jpg"),
        "/abs/b.png",
        str(tmp_path / "lists" / "sub dir" / "c.jpg"),
    ]


def test_csv_path_lists(tmp_path: Path) -> None:
    with_path = tmp_path / "m.csv"
    with_path.write_text('label,path\nai,"x, y.png"\nreal,\nreal,z.jpg\n')
    assert list(read_path_list(with_path)) == [str(tmp_path / "x, y.png"), str(tmp_path / "z.jpg")]
    with_file = tmp_path / "manifest"
    with_file.write_text("file,label\nq.jpg,real\n")
    assert list(read_path_list(with_file)) == [str(tmp_path / "q.jpg")]
    no_column = tmp_path / "bad.csv"
    no_column.write_text("name,label\nq.jpg,real\n")
    with pytest.raises(ConfigError, match="'path'"):
        list(read_path_list(no_column))
    with pytest.raises(ConfigError, match="cannot read"):
        list(read_path_list(tmp_path / "absent.txt"))
