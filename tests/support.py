"""Helpers the test modules share: sample projects, tree digests, and checks made from outside.

Checks read what conda-source wrote with other tools (py-rattler, conda-package-streaming,
the dist-info RECORD), never with conda-source's own readers.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from conda_package_streaming.package_streaming import stream_conda_component
from rattler import PathsJson, PrefixRecord

PROJECTS = Path(__file__).parent / "projects"
PROJECT = PROJECTS / "in-tree-editable"


def copy_project(name: str, destination: Path) -> Path:
    """A copy of a sample project in ``destination``: backends build in the source tree, never in the repo's."""
    return Path(shutil.copytree(PROJECTS / name, destination / name))


def bad_backend_project(destination: Path, mode: str) -> Path:
    """A copy of tests/projects/bad-backend whose backend fails the way ``mode`` says (see its backend)."""
    project = copy_project("bad-backend", destination)
    (project / "MODE").write_text(mode)
    return project


def tree_digest(root: Path) -> str:
    """A hash of every path, mode and content under ``root``: any change shows."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_record_matches_disk(prefix: Path, record_file: Path) -> PrefixRecord:
    """py-rattler reads the record; its files are exactly what is on disk and in the dist-info RECORD."""
    record = PrefixRecord.from_path(record_file)
    files = sorted(str(f) for f in record.files)
    for relative in files:
        assert (prefix / relative).is_file(), relative
    data = json.loads(record_file.read_text())
    for entry in data["paths_data"]["paths"]:
        content = (prefix / entry["_path"]).read_bytes()
        assert (entry["sha256"], entry["size_in_bytes"]) == (hashlib.sha256(content).hexdigest(), len(content))
    record_txt = next(f for f in files if f.endswith(".dist-info/RECORD"))
    site = record_txt.split("/")[:-2]
    listed = sorted(
        str((prefix / Path(*site) / row[0]).resolve().relative_to(prefix.resolve()))
        for row in csv.reader(io.StringIO((prefix / record_txt).read_text()))
    )
    assert listed == files
    return record


def local_project(tmp_path: Path, name: str, dependencies: list[str]) -> Path:
    """A copy of the in-tree project under another name, depending on ``dependencies``."""
    module = name.replace("-", "_")
    path = Path(shutil.copytree(PROJECT, tmp_path / name))
    shutil.move(path / "src" / "in_tree_editable", path / "src" / module)
    text = (path / "pyproject.toml").read_text().replace("in-tree-editable", name).replace("in_tree_editable", module)
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (path / "pyproject.toml").write_text(
        text.replace('requires-python = ">=3.11"', f'requires-python = ">=3.11"\ndependencies = [{deps}]')
    )
    return path


def read_members(package: Path) -> dict[str, bytes]:
    """Every file of both components, read with conda-package-streaming (not our writer)."""
    members = {}
    for component in ("pkg", "info"):
        with package.open("rb") as stream:
            for tar, member in stream_conda_component(package.name, stream, component):
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    members[member.name] = extracted.read()
    return members


def check_paths_match_contents(package: Path) -> None:
    """paths.json (read by py-rattler) must describe exactly the files in the archive."""
    members = read_members(package)
    payload = {path: data for path, data in members.items() if not path.startswith("info/")}
    paths = PathsJson.from_package_archive(package).paths
    assert sorted(str(p.relative_path) for p in paths) == sorted(payload)
    for entry in paths:
        data = payload[str(entry.relative_path)]
        assert (entry.size_in_bytes or 0) == len(data)  # py-rattler reads a size of 0 as None
        assert bytes(entry.sha256).hex() == hashlib.sha256(data).hexdigest()
    assert members["info/files"].decode().splitlines() == sorted(payload)


def check_dist_info(package: Path) -> None:
    """INSTALLER says conda; RECORD lists every site-packages file, with its real hash and size."""
    members = read_members(package)
    record_path = next(p for p in members if p.endswith(".dist-info/RECORD"))
    dist_info = record_path.rsplit("/", 1)[0]
    site = dist_info.rsplit("/", 1)[0]
    assert members[f"{dist_info}/INSTALLER"] == b"conda\n"
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(members[record_path].decode()))}
    shipped = {path[len(site) + 1 :]: data for path, data in members.items() if path.startswith(site + "/")}
    assert set(shipped) <= set(rows)
    for name, data in shipped.items():
        digest, size = rows[name]
        if name == record_path[len(site) + 1 :]:
            assert (digest, size) == ("", "")
            continue
        algorithm, _, value = digest.partition("=")
        assert base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).decode().rstrip("=") == value
        assert int(size) == len(data)


def site_packages(prefix: Path) -> Path:
    (site,) = (prefix / "lib").glob("python3.*/site-packages")
    return site


def prefix_state(prefix: Path) -> dict[str, str]:
    """Every path under ``prefix`` and its content, as a comparable map; what differs between two
    identical runs (the history, the install time in a develop record) is left out."""
    state = {}
    for path in sorted(prefix.rglob("*")):
        relative = path.relative_to(prefix).as_posix()
        if relative == "conda-meta/history":
            continue
        if path.is_symlink():
            state[relative] = f"link {path.readlink()}"
        elif path.is_dir():
            state[relative] = "dir"
        elif relative.startswith("conda-meta/") and relative.count("/") == 1 and path.suffix == ".json":
            data = json.loads(path.read_text())
            if data.get("channel") == "local-develop":
                data.pop("timestamp", None)
            state[relative] = json.dumps(data, sort_keys=True)
        else:
            state[relative] = f"{path.stat().st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return state


@dataclass
class Before:
    """What the invariants compare against: the history so far, and the trees outside the prefix."""

    history: str
    outside: dict[Path, str]


def before(prefix: Path, outside: tuple[Path, ...] = ()) -> Before:
    history = prefix / "conda-meta" / "history"
    return Before(history.read_text() if history.exists() else "", {p: tree_digest(p) for p in outside})


def check_invariants(prefix: Path, then: Before | None = None) -> None:
    """The ownership rules, checked from outside (py-rattler reads the records) after any operation:

    - nothing half-done: no journal, no ``.partial`` files, no channel package waiting to be put back;
    - one record per name, every file a record lists exists, no path claimed by two records (except a
      file a develop install overwrote under --force, listed in its state with the original kept);
    - no ``*.dist-info`` that no record claims unless pip installed it, and no empty directory in site-packages;
    - ``conda-meta/history`` only appended to; nothing outside the prefix (``then.outside``) touched.
    """
    meta = prefix / "conda-meta"
    assert not (meta / "conda-source" / "journal").exists(), "a journal was left open"
    assert not list(meta.glob("conda-source/restore/*")), "a replaced package was not put back"
    leftovers = [p for p in prefix.rglob("*") if p.name.endswith((".partial", ".conda-source-partial"))]
    assert not leftovers, leftovers
    claims: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for path in sorted(meta.glob("*.json")):
        record = PrefixRecord.from_path(path)
        name = record.name.normalized
        assert name not in names, f"two records named {name}: {names[name]}, {path.name}"
        names[name] = path.name
        for file in record.files:
            assert (prefix / str(file)).exists() or (prefix / str(file)).is_symlink(), f"{path.name}: {file} missing"
            claims.setdefault(str(file), []).append(name)
    forced = {}
    for state_file in meta.glob("conda-source/*.json"):
        state = json.loads(state_file.read_text())
        assert state_file.stem in names, f"state {state_file.name} without a record"
        for path, owner in (state.get("forced") or {}).items():
            forced[path] = {state_file.stem, owner}
            if owner and (prefix / path).exists():
                assert (meta / "conda-source" / "forced" / state_file.stem / path).exists(), f"{path}: original lost"
    for path, owners in claims.items():
        if len(owners) > 1:
            assert path in forced and set(owners) == forced[path], f"{path} claimed by {owners}"
    site = site_packages(prefix)
    for dist_info in site.glob("*.dist-info"):
        relative = dist_info.relative_to(prefix).as_posix()
        claimed = any(path.startswith(relative + "/") for path in claims)
        installer = dist_info / "INSTALLER"
        by_pip = installer.is_file() and installer.read_text().strip() == "pip"
        assert claimed or by_pip, f"{relative}: no record claims it"
    empty = [p for p in site.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert not empty, f"empty directories left: {empty}"
    if then is not None:
        history = (meta / "history").read_text() if (meta / "history").exists() else ""
        assert history.startswith(then.history), "conda-meta/history was rewritten, not appended to"
        for path, digest in then.outside.items():
            assert tree_digest(path) == digest, f"{path} was changed"
