"""The malformed-input table: every row is a bad input a user can give, run through the standalone
command in-process; each must end with exit status 1 and exactly the one-line message of its row
(what failed, where, and what to do), and never with a traceback.

Rows build their input in a scratch folder (``S``) next to a test prefix (``ENV``), a prefix
without python (``NOPY``), a plain directory (``PLAIN``), an empty indexed channel (``EMPTY``)
and the sample projects; ``{S}``, ``{ENV}`` ... in the arguments and messages are those paths.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import PROJECTS, bad_backend_project
from wheelmaker import make_wheel

from conda_source.cli import main
from conda_source.installer.channel import index_channel
from conda_source.testing import make_test_prefix


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]
    message: str  # the whole of stderr after "conda-source: error: ", on one line (or its last line)
    make: Callable[[Path], object] = lambda s: None
    environ: dict[str, str] = field(default_factory=dict)
    last_line_only: bool = False  # for messages that quote a solver's reason


def pyproject(text: str) -> Callable[[Path], object]:
    def make(s: Path) -> None:
        (s / "proj").mkdir()
        (s / "proj" / "pyproject.toml").write_text(text)

    return make


def raw_pyproject(data: bytes) -> Callable[[Path], object]:
    def make(s: Path) -> None:
        (s / "proj").mkdir()
        (s / "proj" / "pyproject.toml").write_bytes(data)

    return make


def wheel(**kwargs: object) -> Callable[[Path], object]:
    return lambda s: make_wheel(s, **kwargs)  # type: ignore[arg-type]


def write(name: str, data: bytes) -> Callable[[Path], object]:
    return lambda s: (s / name).write_bytes(data)


def sdist(members: dict[str, bytes]) -> Callable[[Path], object]:
    def make(s: Path) -> None:
        with tarfile.open(s / "pkg-1.0.tar.gz", "w:gz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))

    return make


def duplicate_member(s: Path) -> None:
    path = make_wheel(s)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("demo/__init__.py", b"VALUE = 2\n")


OK_PROJECT = '[build-system]\nrequires = []\nbuild-backend = "x"\n[project]\nname = "p"\nversion = "1"\n'
PLAN = ("plan", "--python", "3.11", "--no-user-mapping")
DEV = ("develop-install", "--no-user-mapping")
BUILD = ("build-local", "--no-user-mapping", "--output-dir", "{S}/out")

ROWS: dict[str, Row] = {
    # --- the environment -------------------------------------------------------------------------
    "not-a-conda-env": Row(
        (*DEV, "{PROJ}", "-p", "{PLAIN}"),
        "{PLAIN}: not a conda environment (no conda-meta/); create one with 'conda create -p {PLAIN} python', or give the prefix of an existing environment",
    ),
    "no-such-env": Row(
        (*DEV, "{PROJ}", "-p", "{S}/nope"),
        "{S}/nope: no such environment; create it with 'conda create -p {S}/nope python'",
    ),
    "env-without-python": Row(
        (*DEV, "{PROJ}", "-p", "{NOPY}"),
        "{NOPY}: this environment has no python; add one with 'conda install -p {NOPY} python'",
    ),
    "no-env-given": Row(
        (*DEV, "{PROJ}"), "no target environment: pass -p PREFIX or -n NAME, or activate a conda environment"
    ),
    "name-and-prefix": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-n", "dev"), "give either -n/--name or -p/--prefix, not both"
    ),
    "unknown-env-name": Row(
        (*DEV, "{PROJ}", "-n", "no-such-env-anywhere"),
        "no conda environment named 'no-such-env-anywhere' (looked in $CONDA_ENVS_PATH, the conda installation's envs/ and ~/.conda/environments.txt); pass -p PREFIX instead",
    ),
    "base-env": Row(
        (*DEV, "{PROJ}", "-p", "{BASE}"),
        "{BASE} is conda's base environment, where conda itself lives; develop in a separate environment ('conda create -n dev python'), or pass --allow-base if you mean it",
    ),
    "platform-without-python": Row(
        ("plan", "{PROJ}", "--platform", "linux-64"),
        "--platform describes a target together with --python X.Y; add --python",
    ),
    "python-2": Row(
        ("plan", "{PROJ}", "--python", "2.7"), "--python '2.7' is not a python 3 version; use X.Y or X.Y.Z, e.g. 3.12"
    ),
    "python-garbage": Row(
        ("plan", "{PROJ}", "--python", "three"), "--python 'three' is not a version; use X.Y or X.Y.Z, e.g. 3.12"
    ),
    "prefix-and-python": Row(
        ("plan", "{PROJ}", "-p", "{ENV}", "--python", "3.11"),
        "give either -p/--prefix (probe an environment) or --python (describe one), not both",
    ),
    "checkout-without-env": Row(
        (*BUILD, "{PROJ}"), "building from source needs a target environment: pass -p PREFIX or activate one"
    ),
    # --- channels ------------------------------------------------------------------------------------
    "channel-missing-dir": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-c", "{S}/no-channel"),
        "channel '{S}/no-channel': no such directory ({S}/no-channel); give an existing local channel",
    ),
    "channel-missing-url": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-c", "file://{S}/no-channel"),
        "channel 'file://{S}/no-channel': no such directory ({S}/no-channel); give an existing local channel",
    ),
    "channel-not-indexed": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-c", "{PLAIN}"),
        "channel '{PLAIN}': {PLAIN} is not an indexed channel (no */repodata.json); file packages into it with 'conda-source build-local --channel-dir', or index it with 'conda index'",
    ),
    "channel-garbage": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-c", "garbage!!"),
        "channel 'garbage!!': not a channel name (like conda-forge), an http(s) URL, or a local channel directory",
    ),
    "channel-colons": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "-c", "::"),
        "channel '::': not a channel name (like conda-forge), an http(s) URL, or a local channel directory",
    ),
    "unsatisfiable": Row(
        (*DEV, "{S}/proj", "-p", "{ENV}", "-c", "{EMPTY}"),
        "to fix it: add a channel that has the package (-c CHANNEL), map the PyPI name to the conda package that provides it (--map NAME=SPEC), or drop the requirement (--map NAME=)",
        pyproject(OK_PROJECT + 'dependencies = ["definitely-missing>=1"]\n'),
        last_line_only=True,
    ),
    # --- the project ---------------------------------------------------------------------------------
    "no-such-path": Row((*PLAN, "{S}/missing"), "{S}/missing: no such file or directory"),
    "path-is-a-file": Row(
        (*PLAN, "{S}/notes.txt"),
        "{S}/notes.txt: not a project directory; pass the directory that holds pyproject.toml",
        write("notes.txt", b"hi"),
    ),
    "empty-dir": Row(
        (*PLAN, "{PLAIN}"), "{PLAIN}: neither pyproject.toml nor setup.py found; is this the project's root?"
    ),
    "not-utf8": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: not UTF-8 text (byte 0xff at offset 0); save the file as UTF-8",
        raw_pyproject(b"\xff\xfe[project]\n"),
    ),
    "bad-toml": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: invalid TOML: Expected '=' after a key in a key/value pair (at line 1, column 5)",
        pyproject("name\n"),
    ),
    "bad-requirement": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: project.dependencies[0]: invalid requirement 'six >>> 1': Expected semicolon (after name with no version specifier) or end",
        pyproject(OK_PROJECT + 'dependencies = ["six >>> 1"]\n'),
    ),
    "bad-version": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: project.version: 'one' is not a PEP 440 version (e.g. '1.2.0')",
        pyproject(OK_PROJECT.replace('version = "1"', 'version = "one"')),
    ),
    "requires-python-excludes": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: project.requires-python '>=3.99' excludes the target's python 3.11.0; target a matching python (-p PREFIX, or --python X.Y)",
        pyproject(OK_PROJECT + 'requires-python = ">=3.99"\n'),
    ),
    "unknown-tool-key": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: tool.conda-source.dependencis: unknown setting; known: mapping, dependencies, build-dependencies",
        pyproject(OK_PROJECT + "[tool.conda-source]\ndependencis = []\n"),
    ),
    "requires-not-a-list": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: build-system.requires: expected a list of requirement strings",
        pyproject(
            '[build-system]\nrequires = "setuptools"\nbuild-backend = "x"\n[project]\nname = "p"\nversion = "1"\n'
        ),
    ),
    "unknown-extra": Row(
        (*PLAN, "{PROJ}", "--extras", "nope"), "{PROJ}/pyproject.toml: no extra named 'nope' (defined: none)"
    ),
    "unknown-group": Row(
        (*PLAN, "{PROJ}", "--group", "nope"), "{PROJ}/pyproject.toml: no dependency group named 'nope' (defined: none)"
    ),
    "bad-project-mapping": Row(
        (*PLAN, "{S}/proj"),
        "{S}/proj/pyproject.toml: tool.conda-source.mapping.six: expected a conda spec string or a list of them ('' or [] drops the dependency)",
        pyproject(OK_PROJECT + "[tool.conda-source.mapping]\nsix = 3\n"),
    ),
    # --- mapping overrides -----------------------------------------------------------------------------
    "map-without-equals": Row(
        (*PLAN, "{PROJ}", "--map", "torch"), "--map torch: expected PYPI-NAME=CONDA-SPEC (e.g. --map torch=pytorch-cpu)"
    ),
    "map-bad-spec": Row(
        (*PLAN, "{PROJ}", "--map", "torch=Py Torch!!"),
        "--map torch=Py Torch!!: invalid conda spec 'Py Torch!!': the build string '!!' is not valid, it can only contain alphanumeric characters and underscores",
    ),
    "map-bad-key": Row(
        (*PLAN, "{PROJ}", "--map", "bad key!=x"),
        "--map bad key!=x: expected PYPI-NAME=CONDA-SPEC (e.g. --map torch=pytorch-cpu)",
    ),
    "user-mapping-missing": Row(
        ("plan", "--python", "3.11", "{PROJ}"),
        "$CONDA_SOURCE_MAPPING={S}/none.toml: file not found; point it at a TOML file with a [mapping] table",
        environ={"CONDA_SOURCE_MAPPING": "{S}/none.toml"},
    ),
    "user-mapping-dir": Row(
        ("plan", "--python", "3.11", "{PROJ}"),
        "$CONDA_SOURCE_MAPPING={PLAIN}: is a directory; point it at a TOML file with a [mapping] table",
        environ={"CONDA_SOURCE_MAPPING": "{PLAIN}"},
    ),
    "user-mapping-bad-toml": Row(
        ("plan", "--python", "3.11", "{PROJ}"),
        "{S}/m.toml: invalid TOML: Expected '=' after a key in a key/value pair (at line 1, column 8)",
        write("m.toml", b"mapping\n"),
        environ={"CONDA_SOURCE_MAPPING": "{S}/m.toml"},
    ),
    "user-mapping-not-utf8": Row(
        ("plan", "--python", "3.11", "{PROJ}"),
        "{S}/m.toml: not UTF-8 text (byte 0xff at offset 10); save the file as UTF-8",
        write("m.toml", b"[mapping]\n\xff"),
        environ={"CONDA_SOURCE_MAPPING": "{S}/m.toml"},
    ),
    "user-mapping-unknown-table": Row(
        ("plan", "--python", "3.11", "{PROJ}"),
        "{S}/m.toml: unknown table 'mappings'; only [mapping] is read",
        write("m.toml", b"[mappings]\n"),
        environ={"CONDA_SOURCE_MAPPING": "{S}/m.toml"},
    ),
    # --- wheels ---------------------------------------------------------------------------------------
    "unknown-source-kind": Row(
        (*BUILD, "{S}/notes.txt"),
        "{S}/notes.txt: not a project directory, wheel (.whl) or sdist (.tar.gz, .zip)",
        write("notes.txt", b"hi"),
    ),
    "bad-wheel-name": Row(
        (*BUILD, "{S}/demo.whl"),
        "{S}/demo.whl: not a valid wheel file name: Invalid wheel filename (wrong number of parts): 'demo'",
        write("demo.whl", b""),
    ),
    "wheel-not-zip": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: not a readable wheel (zip) file: File is not a zip file",
        write("demo-1.0-py3-none-any.whl", b"not a zip"),
    ),
    "wheel-duplicate-member": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: refusing: the wheel holds two members named 'demo/__init__.py'; rebuild the wheel",
        duplicate_member,
    ),
    "wheel-parent-path": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: refusing member '../evil.py': absolute or parent-relative path in the wheel",
        wheel(unrecorded={"../evil.py": b""}),
    ),
    "wheel-bad-hash": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: RECORD check failed: In {S}/demo-1.0-py3-none-any.whl, hash / size of demo/__init__.py didn't match RECORD",
        wheel(record_overrides={"demo/__init__.py": "demo/__init__.py,sha256=AAAA,10"}),
    ),
    "wheel-bad-requires-dist": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: demo's .dist-info/METADATA is invalid: 'bad req !!' is invalid for 'requires-dist'; fix the project's metadata and rebuild",
        wheel(requires=("bad req !!",)),
    ),
    "wheel-bad-version": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: demo's .dist-info/METADATA is invalid: 'one.two' is invalid for 'version'; fix the project's metadata and rebuild",
        wheel(metadata="Metadata-Version: 2.1\nName: demo\nVersion: one.two\n"),
    ),
    "wheel-empty-metadata": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: demo's .dist-info/METADATA is empty; rebuild the wheel",
        wheel(metadata=""),
    ),
    "wheel-no-version": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: demo's .dist-info/METADATA is invalid: 'version' is a required field; fix the project's metadata and rebuild",
        wheel(metadata="Metadata-Version: 2.1\nName: demo\n"),
    ),
    "wheel-into-conda-meta": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: refusing 'demo-1.0.data/data/conda-meta/history': it would install into conda-meta/, which belongs to conda; remove it from the wheel",
        wheel(files={"demo/__init__.py": b"", "demo-1.0.data/data/conda-meta/history": b"x"}),
    ),
    "wheel-python-marker": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl"),
        "{S}/demo-1.0-py3-none-any.whl: the marker of 'tomli; python_version < \"3.11\"' depends on the python version, which one noarch package cannot express; pass --python X.Y to build a package for one python",
        wheel(requires=('tomli; python_version < "3.11"',)),
    ),
    "wheel-windows": Row(
        (*BUILD, "{S}/demo-1.0-cp311-cp311-win_amd64.whl"),
        "{S}/demo-1.0-cp311-cp311-win_amd64.whl: platform 'win_amd64' is not supported yet (linux and macOS wheels are)",
        wheel(tag="cp311-cp311-win_amd64"),
    ),
    "wheel-other-python": Row(
        (*BUILD, "{S}/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "--python", "3.12"),
        "{S}/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl: wheel is built for python 3.11, not 3.12",
        wheel(tag="cp311-cp311-manylinux_2_17_x86_64"),
    ),
    "wheel-abi3-no-python": Row(
        (*BUILD, "{S}/demo-1.0-cp38-abi3-manylinux_2_17_x86_64.whl"),
        "{S}/demo-1.0-cp38-abi3-manylinux_2_17_x86_64.whl: this wheel works on several pythons; pass --python X.Y to choose the one to package for",
        wheel(tag="cp38-abi3-manylinux_2_17_x86_64"),
    ),
    "wheel-max-files": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl", "--max-files", "2"),
        "{S}/demo-1.0-py3-none-any.whl: refusing: the wheel has 4 members, more than the limit of 2 (raise it with --max-files N)",
        wheel(),
    ),
    # --- sdists ---------------------------------------------------------------------------------------
    "sdist-parent-path": Row(
        (*BUILD, "{S}/pkg-1.0.tar.gz", "-p", "{ENV}"),
        "{S}/pkg-1.0.tar.gz: refusing to unpack: member '../evil': it would unpack outside the source tree; the sdist is malformed",
        sdist({"../evil": b"x"}),
    ),
    "sdist-unreadable": Row(
        (*BUILD, "{S}/pkg-1.0.tar.gz", "-p", "{ENV}"),
        "{S}/pkg-1.0.tar.gz: not a readable sdist (.tar.gz or .zip): not a gzip, bzip2 or xz compressed tar file",
        write("pkg-1.0.tar.gz", b"not a tarball"),
    ),
    "sdist-no-project": Row(
        (*BUILD, "{S}/pkg-1.0.tar.gz", "-p", "{ENV}"),
        "{S}/pkg-1.0.tar.gz: no pyproject.toml or setup.py at the top of the sdist",
        sdist({"pkg-1.0/README": b"x"}),
    ),
    # --- outputs --------------------------------------------------------------------------------------
    "output-dir-is-file": Row(
        ("build-local", "--no-user-mapping", "{S}/demo-1.0-py3-none-any.whl", "--output-dir", "{S}/notes.txt"),
        "{S}/notes.txt: --output-dir exists and is not a directory; choose another --output-dir",
        lambda s: (make_wheel(s), (s / "notes.txt").write_text("x")),
    ),
    "channel-dir-is-file": Row(
        (*BUILD, "{S}/demo-1.0-py3-none-any.whl", "--channel-dir", "{S}/notes.txt"),
        "{S}/notes.txt: --channel-dir exists and is not a directory; choose another --channel-dir",
        lambda s: (make_wheel(s), (s / "notes.txt").write_text("x")),
    ),
    # --- develop-install ---------------------------------------------------------------------------------
    "uninstall-not-installed": Row(
        (*DEV, "{PROJ}", "-p", "{ENV}", "--uninstall"), "{PROJ}: not develop-installed in {ENV}; nothing to uninstall"
    ),
    "no-pep660": Row(
        (*DEV, "{S}/bad-backend", "-p", "{ENV}"),
        "{S}/bad-backend: build backend failed in build_editable: the backend has no 'build_editable' hook (it predates PEP 660 editable installs); use --no-editable, or upgrade the backend",
        lambda s: bad_backend_project(s, "no-pep660"),
    ),
    "backend-exits": Row(
        (*DEV, "{S}/bad-backend", "-p", "{ENV}"),
        "{S}/bad-backend: build backend failed in build_editable: the backend exited with status 3; its output is above, fix what it reports and run again",
        lambda s: bad_backend_project(s, "exit"),
        last_line_only=True,
    ),
    "backend-bad-requires": Row(
        (*DEV, "{S}/bad-backend", "-p", "{ENV}"),
        "{S}/bad-backend: build backend failed in get_requires_for_build_editable: the backend asked for an invalid requirement '=not-a-requirement' (Expected package name at the start of dependency specifier); fix or upgrade it",
        lambda s: bad_backend_project(s, "bad-requires"),
    ),
    "backend-bad-metadata": Row(
        (*DEV, "{S}/bad-backend", "-p", "{ENV}"),
        "{S}/bad-backend: build backend failed in prepare_metadata_for_build_editable: the backend wrote invalid metadata: 'not a valid requirement !!' is invalid for 'requires-dist'; fix the project's metadata",
        lambda s: bad_backend_project(s, "bad-metadata"),
    ),
    "local-cycle": Row(
        (*DEV, "{S}/cyc-a", "{S}/cyc-b", "-p", "{ENV}"),
        "the local projects depend on each other in a cycle (cyc-a -> cyc-b -> cyc-a); break the cycle",
        lambda s: cycle(s),
    ),
}


def cycle(s: Path) -> None:
    from support import local_project

    local_project(s, "cyc-a", ["cyc-b"])
    local_project(s, "cyc-b", ["cyc-a"])


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("errors")
    nopy = root / "nopy"
    (nopy / "conda-meta").mkdir(parents=True)
    base = make_test_prefix(root / "base")
    (base / "condabin").mkdir()
    (root / "plain").mkdir()
    index_channel(root / "empty-channel")
    return {
        "ENV": make_test_prefix(root / "env"),
        "NOPY": nopy,
        "BASE": base,
        "PLAIN": root / "plain",
        "EMPTY": root / "empty-channel",
        "PROJ": PROJECTS / "setuptools-basic",
    }


def fill(text: str, values: dict[str, Path]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


@pytest.mark.parametrize("case", sorted(ROWS))
def test_malformed_input(
    case: str,
    places: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    row = ROWS[case]
    scratch = tmp_path / "s"
    scratch.mkdir()
    row.make(scratch)
    values = {**places, "S": scratch}
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("CONDA_ENVS_PATH", str(tmp_path / "no-envs"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    for key, value in row.environ.items():
        monkeypatch.setenv(key, fill(value, values))
    code = main([fill(a, values) for a in row.args])  # any exception escaping here is a traceback: the test fails
    out, err = capsys.readouterr()
    assert code == 1, out
    lines = err.rstrip("\n").splitlines()
    expected = fill(row.message, values)
    if row.last_line_only:
        assert lines[-1] in (expected, f"conda-source: error: {expected}")
        assert "conda-source: error: " in err
    else:
        assert err == f"conda-source: error: {expected}\n"
    assert "Traceback" not in err or case == "backend-exits"


def test_json_errors_are_one_document(places: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["develop-install", str(places["PROJ"]), "-p", str(places["PLAIN"]), "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    document = json.loads(out)
    assert document["success"] is False and document["exception_name"] == "TargetError"
    assert document["error"].startswith(f"{places['PLAIN']}: not a conda environment (no conda-meta/)")


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 60


def test_a_failed_write_into_the_environment_is_one_line_and_changes_nothing(
    places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file the install must write cannot be written (here: a directory stands in its way)."""
    from support import copy_project, tree_digest

    prefix = make_test_prefix(tmp_path / "env")
    project = copy_project("in-tree-editable", tmp_path)
    (prefix / "bin" / "in-tree-editable").mkdir()
    before = tree_digest(prefix)
    code = main(["develop-install", str(project), "-p", str(prefix), "--no-user-mapping"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err == (
        f"conda-source: error: {prefix / 'bin' / 'in-tree-editable'}: cannot write into the environment "
        "(Is a directory); nothing was changed; fix the permissions or free space, then run again\n"
    )
    assert tree_digest(prefix) == before


def test_a_write_the_os_refuses_anywhere_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """A failure no check foresees (here a file size limit, as a full disk would refuse a write) ends the run
    with one line naming the file, not a traceback; the output directory is as it was (not there)."""
    import os
    import re
    import resource
    import signal
    import subprocess
    import sys

    blobs = {f"demo/blob{i}.bin": os.urandom(600 << 10) for i in range(2)}  # each fits, their tarball does not
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"", **blobs})
    out = tmp_path / "out"

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    command = [sys.executable, "-m", "conda_source", "build-local", str(wheel), "--output-dir", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert re.fullmatch(
        rf"conda-source: error: {re.escape(str(out))}/\S+: File too large; the run stopped there and undid what it "
        r"had changed: check that path \(permissions, free space, file system\) and run again",
        run.stderr.strip().splitlines()[-1],
    ), run.stderr
    assert not out.exists()


def test_solver_errors_blame_whole_names_only() -> None:
    from conda_source.engine.origins import mentioned

    reason = "No candidates were found for setuptools-scm >=8."
    assert mentioned("setuptools-scm", reason)
    assert not mentioned("setuptools", reason)
    assert not mentioned("scm", reason)
    assert mentioned("six", "six >=2 cannot be installed")
    assert not mentioned("six", "sixty")


def test_build_local_marks_the_output_directory_it_creates_as_ignored(tmp_path: Path) -> None:
    wheel_file = make_wheel(tmp_path)
    assert (
        main(["build-local", str(wheel_file), "--output-dir", str(tmp_path / "dist-conda"), "--no-user-mapping"]) == 0
    )
    assert (tmp_path / "dist-conda" / ".gitignore").read_text() == "*\n"
    existing = tmp_path / "mine"
    existing.mkdir()
    assert main(["build-local", str(wheel_file), "--output-dir", str(existing), "--no-user-mapping"]) == 0
    assert not (existing / ".gitignore").exists()  # a directory the user made is theirs


def test_a_full_scratch_space_while_staging_names_it_and_changes_nothing(
    prefix: Path, tmp_path: Path, lab_channel: Path
) -> None:
    """Staging spools a wheel's large files to a scratch directory (in TMPDIR): a write refused there (a full /tmp,
    here a file size limit the backend lifts for itself) names that directory, not just 'File too large', and
    the dependency the run had installed goes again."""
    import os
    import re
    import resource
    import signal
    import subprocess
    import sys

    from lab import write_project
    from support import prefix_state

    members = {"big/data.txt": "x" * (3 << 20)}
    project = write_project(tmp_path / "big", "big", dependencies=["helper-lib"], members=members)
    backend = project / "_backend" / "lab_backend.py"
    lifted = "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)\n"
    backend.write_text(lifted + backend.read_text())
    (tmp_path / "tmp").mkdir()
    before = prefix_state(prefix)

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))

    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    command += ["--no-editable", "-c", str(lab_channel), "--no-user-mapping"]
    environ = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    run = subprocess.run(command, capture_output=True, text=True, preexec_fn=limited, env=environ)
    assert run.returncode == 1, run.stderr
    assert re.fullmatch(
        rf"conda-source: error: {re.escape(str(tmp_path / 'tmp'))}/conda-source-stage-\S+: File too large; the run "
        r"stopped there and undid what it had changed: check that path \(permissions, free space, file system\) and "
        r"run again",
        run.stderr.strip().splitlines()[-1],
    ), run.stderr
    assert prefix_state(prefix) == before
