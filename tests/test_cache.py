"""The per-user cache: the probe of a prefix's python and which record satisfied which spec,
each reused only while what decides it is unchanged, and never written into a prefix."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rattler import PrefixRecord

from conda_source import cache
from conda_source.installer import satisfied
from conda_source.target import probe


def logging_python(prefix: Path, log: Path) -> None:
    """Replace the prefix's python by a wrapper that logs each start, then runs the real one."""
    python = prefix / "bin" / "python"
    real = python.resolve()
    python.unlink()
    python.write_text(f'#!/bin/sh\necho started >> "{log}"\nexec "{real}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script interpreter wrapper")
def test_the_probe_is_reused_until_the_interpreter_changes(prefix: Path, tmp_path: Path) -> None:
    log = tmp_path / "starts.log"
    logging_python(prefix, log)
    first = probe(prefix)
    second = probe(prefix)
    assert first == second and log.read_text().count("started") == 1
    python = prefix / "bin" / "python"
    os.utime(python, ns=(python.stat().st_atime_ns, python.stat().st_mtime_ns + 10**9))  # conda replaced it
    assert probe(prefix) == first and log.read_text().count("started") == 2


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script interpreter wrapper")
def test_no_cache_when_turned_off(prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA_SOURCE_NO_CACHE", "1")
    log = tmp_path / "starts.log"
    logging_python(prefix, log)
    probe(prefix)
    probe(prefix)
    assert log.read_text().count("started") == 2


def test_an_unwritable_cache_is_no_cache(prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # conda-source/ cannot be made under a file
    assert probe(prefix).python.major == 3
    assert cache.load("probe", "anything") is None


def test_the_cache_lives_outside_every_prefix(prefix: Path) -> None:
    probe(prefix)
    directory = cache.directory()
    assert directory is not None and not directory.is_relative_to(prefix)
    assert list(directory.glob("probe/*.json"))


def test_a_satisfied_spec_is_remembered_while_its_record_is_unchanged(prefix: Path) -> None:
    (record,) = (prefix / "conda-meta").glob("python-*.json")
    version = json.loads(record.read_text())["version"]
    specs = [f"python >={version}", "python"]
    assert not satisfied.remembered(prefix, specs)
    assert satisfied.check(prefix, specs)
    assert satisfied.remembered(prefix, specs)
    assert not satisfied.remembered(prefix, [*specs, "python <3"])  # a new spec is checked again
    assert not satisfied.check(prefix, ["python <3"])
    data = json.loads(record.read_text())
    data["version"] = "2.7.18"  # the record rewritten (python changed): checked again, and now unsatisfied
    record.write_text(json.dumps(data))
    assert not satisfied.remembered(prefix, specs)
    assert not satisfied.check(prefix, specs[:1])
    assert str(PrefixRecord.from_path(record).version) == "2.7.18"  # py-rattler reads the rewrite too


def test_a_removed_record_is_not_remembered(prefix: Path) -> None:
    (record,) = (prefix / "conda-meta").glob("python-*.json")
    assert satisfied.check(prefix, ["python"])
    record.unlink()
    assert not satisfied.remembered(prefix, ["python"])
    assert not satisfied.check(prefix, ["python"])


def aged(path: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def entry(root: Path, kind: str, name: str) -> Path:
    return root / "conda-source" / kind / f"{name}.json"


def test_entries_unused_for_30_days_are_removed_at_most_once_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe of a python since replaced, the records of a deleted environment: nothing reads them again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for kind, name in (("probe", "old"), ("satisfied", "old"), ("probe", "recent"), ("requires", "read-lately")):
        cache.store(kind, name, {"value": name})
    (tmp_path / "conda-source" / "PRUNED").unlink()  # as if the last removal was long ago
    for kind, name in (("probe", "old"), ("satisfied", "old"), ("requires", "read-lately")):
        aged(entry(tmp_path, kind, name), 40)
    aged(entry(tmp_path, "probe", "recent"), 20)
    assert cache.load("requires", "read-lately") == {"value": "read-lately"}  # a read keeps it
    cache.store("probe", "new", {"value": "new"})
    left = sorted(str(p.relative_to(tmp_path / "conda-source")) for p in (tmp_path / "conda-source").glob("*/*.json"))
    assert left == ["probe/new.json", "probe/recent.json", "requires/read-lately.json"]
    aged(entry(tmp_path, "probe", "recent"), 40)
    cache.store("probe", "newer", {"value": "newer"})  # within a day of the last removal: nothing is looked at
    assert entry(tmp_path, "probe", "recent").exists()


def test_an_entry_that_cannot_be_marked_read_is_still_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache it may read but not write (made by another user, say with sudo; a read-only disk): an entry older
    than a day is still used, though its time cannot be refreshed (an immutable file: even root cannot)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache.store("probe", "old", {"value": "old"})
    path = entry(tmp_path, "probe", "old")
    aged(path, 2)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i needs root on a file system that has it")
    try:
        with pytest.raises(PermissionError):
            os.utime(path)
        assert cache.load("probe", "old") == {"value": "old"}
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_relative_xdg_cache_home_means_the_default_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG spec: a relative path in $XDG_CACHE_HOME is invalid and is ignored."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert cache.directory() == tmp_path / ".cache" / "conda-source"


def test_a_removal_marker_from_the_future_does_not_stop_removals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache.store("probe", "old", {"value": "old"})
    aged(entry(tmp_path, "probe", "old"), 40)
    aged(tmp_path / "conda-source" / "PRUNED", -10)  # the clock was ten days ahead when it was written
    cache.store("probe", "new", {"value": "new"})
    assert not entry(tmp_path, "probe", "old").exists()
