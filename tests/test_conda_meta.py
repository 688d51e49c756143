"""conda-meta as conda-source writes it, read back by py-rattler (never by our own reader alone)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rattler import PrefixRecord
from support import local_project, tree_digest

from conda_source.meta import conda_meta, history, record_reading
from conda_source.meta.conda_meta import DEVELOP_CHANNEL, DevelopState, PathEntry, Record


def develop_record(source: Path) -> Record:
    data = b"print('hi')\n"
    entry = PathEntry("lib/site/demo.py", hashlib.sha256(data).hexdigest(), len(data))
    return Record("demo", "1.0", "editable_habc_0", DEVELOP_CHANNEL, "linux-64", ("python >=3.11,<3.12.0a0",),
                  ("lib/site/demo.py",), (entry,), str(source))  # fmt: skip


def test_a_develop_record_is_what_rattler_reads(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    written = conda_meta.write_record(prefix, develop_record(tmp_path / "src"))
    assert written == prefix / "conda-meta" / "demo-1.0-editable_habc_0.json"
    read = PrefixRecord.from_path(written)
    assert (read.name.normalized, str(read.version), str(read.build)) == ("demo", "1.0", "editable_habc_0")
    assert [str(f) for f in read.files] == ["lib/site/demo.py"]
    assert [str(d) for d in read.depends] == ["python >=3.11,<3.12.0a0"]
    raw = json.loads(written.read_text())
    for key in ("url", "fn", "channel", "subdir", "requested_spec", "package_type", "link", "paths_data"):
        assert key in raw, key
    assert raw["paths_data"]["paths"][0]["path_type"] == "hardlink"
    # No package file exists for a develop install: the url names its checkout (what conda list --explicit prints).
    assert raw["url"] == (tmp_path / "src").as_uri() and str(read.url) == (tmp_path / "src").as_uri()


def test_the_history_keeps_the_checkout_of_each_develop_install(tmp_path: Path) -> None:
    """conda install --revision N of a develop install long uninstalled still names the checkout to re-create."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    assert history.history_sources(prefix) == {}
    first, second = tmp_path / "old checkout", tmp_path / "src: new"
    history.append_history(
        prefix, "c", ["local-develop::demo-1.0-editable_h1_0"], ["demo"], sources={"demo": str(first)}
    )
    history.append_history(
        prefix, "c", ["local-develop::demo-1.1-editable_h2_0"], ["demo"], sources={"demo": str(second)}
    )
    history.append_history(prefix, "c", [], ["demo"], unlinked=["local-develop::demo-1.1-editable_h2_0"])
    assert history.history_sources(prefix) == {"demo": str(second)}
    text = (prefix / "conda-meta" / "history").read_text()
    assert f"\n# conda-source source of demo: {first}\n" in text
    with (prefix / "conda-meta" / "history").open("a") as handle:
        handle.write("# conda-source source of broken\n")  # not a line we write: ignored
    assert history.history_sources(prefix) == {"demo": str(second)}


def test_records_round_trip_through_json(tmp_path: Path) -> None:
    record = develop_record(tmp_path / "src")
    again = Record.from_json(record.to_json())
    assert again.requested_spec == "demo"  # a develop record is requested by its own name
    assert (
        dataclasses.replace(again, requested_spec="") == record
        and again.is_develop
        and again.dist == "demo-1.0-editable_habc_0"
    )


def test_state_round_trip_and_develop_installs(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    conda_meta.write_record(prefix, develop_record(tmp_path / "src"))
    state = DevelopState(str(tmp_path / "src"), "f" * 64, True, "0" * 64)
    conda_meta.write_state(prefix, "demo", state)
    assert conda_meta.read_state(prefix, "demo") == state
    assert [(r.name, s) for r, s in conda_meta.develop_installs(prefix)] == [("demo", state)]
    assert conda_meta.owners(prefix, set()) == {"lib/site/demo.py": "demo"}
    assert conda_meta.owners(prefix, {"demo"}) == {}


def test_restore_records_puts_back_what_another_installer_rewrote(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    path = conda_meta.write_record(prefix, develop_record(tmp_path / "src"))
    snapshot = record_reading.snapshot_records(prefix)
    path.write_text("{}")
    record_reading.restore_records(snapshot)
    assert path.read_bytes() == snapshot[path]


def test_the_prefix_lock_makes_a_second_run_wait(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    code = (
        "import sys, time; from pathlib import Path; from conda_source.meta.conda_meta import prefix_lock\n"
        "with prefix_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(1.5)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(prefix)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    start = time.monotonic()
    with conda_meta.prefix_lock(prefix):
        waited = time.monotonic() - start
    holder.wait()
    holder.stdout.close()
    assert waited > 0.5  # it waited for the holder, not a timing claim about speed


def test_a_record_rewritten_in_place_is_read_again_even_with_its_old_size_and_mtime(tmp_path: Path) -> None:
    """The per-process memo of records must not serve a record whose file was rewritten in place (same inode)
    with the same size and its mtime put back (``cp -p``, a restore, or one mtime tick on a coarse clock)."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    path = conda_meta.write_record(prefix, develop_record(tmp_path / "src"))
    assert conda_meta.records(prefix)["demo"].version == "1.0"
    before = path.stat()
    with path.open("r+", encoding="utf-8") as handle:  # same inode, same size
        text = handle.read().replace('"version": "1.0"', '"version": "2.0"')
        handle.seek(0)
        handle.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert conda_meta.records(prefix)["demo"].version == "2.0"


@pytest.mark.parametrize(
    ("content", "needs", "reason"),
    [
        pytest.param("", (), "the file is empty", id="empty-after-a-machine-crash"),
        pytest.param('{"name": "broken", "version": "1.0"', (), "Expecting ',' delimiter: line 1 column 36 (char 35)",
                     id="cut-short"),
        pytest.param('["broken"]', (), "not a JSON object", id="not-an-object"),
        pytest.param('{"name": "broken", "version": "1.0", "build": "0"}', ("helper-lib",),
                     "missing field `fn` at line 1 column 50", id="as-py-rattler-reads-it"),
    ],
)  # fmt: skip
def test_a_damaged_record_is_an_error_that_says_what_to_do(
    prefix: Path, tmp_path: Path, lab_channel: Path, content: str, needs: tuple[str, ...], reason: str
) -> None:
    """Another package's record that cannot be read (a crash of the machine, an edit): no traceback, the file
    named with how to repair it, and the environment as it was."""
    damaged = prefix / "conda-meta" / "broken-1.0-0.json"
    damaged.write_text(content, encoding="utf-8")
    project = local_project(tmp_path, "needs-things", list(needs))
    before = tree_digest(prefix)
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    run = subprocess.run([*command, "-c", str(lab_channel), "--no-user-mapping"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {damaged}: not a readable conda-meta record ({reason}); conda cannot read this "
        f"environment either. Move that file out of {damaged.parent}, reinstall its package (conda install -p "
        f"{prefix} --force-reinstall broken, or develop-install its checkout again), then run again"
    )
    assert tree_digest(prefix) == before


def test_a_damaged_state_is_an_error_that_says_how_to_write_it_again(prefix: Path, tmp_path: Path) -> None:
    """conda-source's own file beside a develop install's record (a crash of the machine, an edit): its next
    develop-install stops with the command that writes it again, and that command works."""
    project = local_project(tmp_path, "stateful", [])
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True).returncode == 0
    state = conda_meta.state_path(prefix, "stateful")
    state.write_text("", encoding="utf-8")
    before = tree_digest(prefix)
    run = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {state}: not a readable develop-install state (the file is empty). Move that file out of {state.parent}, then run conda develop-install {project} -p {prefix} to write "
        "it again"
    )
    assert tree_digest(prefix) == before
    assert [r.name for r, s in conda_meta.develop_installs(prefix)] == ["stateful"]  # conda's hooks go on
    state.unlink()
    again = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert (conda_meta.read_state(prefix, "stateful") or pytest.fail("no state")).source == str(project)


def test_uninstall_with_a_damaged_state_says_so_and_the_advice_works(prefix: Path, tmp_path: Path) -> None:
    """--uninstall needs what the state holds (--force's originals, a replaced channel package): it stops before
    asking, naming the file (it used to say the checkout was not develop-installed)."""
    project = local_project(tmp_path, "stateful", [])
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True).returncode == 0
    installed = [prefix / f for r in conda_meta.develop_installs(prefix) for f in r[0].files]
    state = conda_meta.state_path(prefix, "stateful")
    state.write_text('{"source": "', encoding="utf-8")
    before = tree_digest(prefix)
    run = subprocess.run([*command, "--uninstall"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {state}: not a readable develop-install state (Unterminated string starting at: line 1 "
        f"column 12 (char 11)). Move that file out of {state.parent}, then run conda develop-install {project} -p {prefix} "
        "to write it again"
    )
    assert tree_digest(prefix) == before
    state.unlink()
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True).returncode == 0
    again = subprocess.run([*command, "--uninstall"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not [path for path in installed if path.exists()] and not list(conda_meta.develop_installs(prefix))


def test_uninstall_of_a_develop_install_without_its_state_removes_it(prefix: Path, tmp_path: Path) -> None:
    """The record names the checkout: a state that is gone (moved away, say) does not make it unknown."""
    project = local_project(tmp_path, "stateless", [])
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True).returncode == 0
    installed = [prefix / f for r in conda_meta.develop_installs(prefix) for f in r[0].files]
    conda_meta.state_path(prefix, "stateless").unlink()
    run = subprocess.run([*command, "--uninstall"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not [path for path in installed if path.exists()] and not list(conda_meta.develop_installs(prefix))


def test_a_damaged_develop_record_is_repaired_as_its_message_says(prefix: Path, tmp_path: Path) -> None:
    """The develop install's own record: moved away, its files are nobody's; develop-install again takes them
    over as its earlier install (it refused them as another installer's), and --uninstall then leaves nothing."""
    project = local_project(tmp_path, "recorded", [])
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    assert subprocess.run([*command, "--no-user-mapping"], capture_output=True).returncode == 0
    ((record, _),) = conda_meta.develop_installs(prefix)
    installed = [prefix / f for f in record.files]
    damaged = record.file(prefix)
    damaged.write_text("{", encoding="utf-8")
    run = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {damaged}: not a readable conda-meta record (Expecting property name enclosed in "
        f"double quotes: line 1 column 2 (char 1)); conda cannot read this environment either. Move that file out "
        f"of {damaged.parent}, reinstall its package (conda install -p {prefix} --force-reinstall recorded, or "
        "develop-install its checkout again), then run again"
    )
    damaged.rename(tmp_path / damaged.name)
    again = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    removed = subprocess.run([*command, "--uninstall"], capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    assert not [path for path in installed if path.exists()] and not list(conda_meta.develop_installs(prefix))
