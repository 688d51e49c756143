"""What decides whether a develop install is still current: a re-run with an unchanged fingerprint does nothing.

The fingerprint covers every input that changes what an install would write:

* conda-source's version, the checkout's path, editable or not, the extras and groups;
* the build files (``pyproject.toml``, ``setup.py``, ``setup.cfg``, ``hatch.toml``) and the files their
  dynamic metadata reads (``[tool.setuptools.dynamic]`` ``file`` entries, hatch's
  ``requirements_txt`` hook) and the code of hatch's custom hooks (``hatch_build.py``):
  version, dependencies and entry points live there; for a dynamic
  version, where it comes from (the file it is read from, and for version-control versions the
  commit checked out, the tags and ``SETUPTOOLS_SCM_PRETEND_VERSION*``; see ``build_files``);
* every other file the backend's get_requires hook read, by content (setup.py is a program: it may
  take its requirements from any file; the hook runner lists what it read, ``Inputs.read``);
* the environment's python: its path, the file it resolves to (size, mtime), its
  version, implementation and install scheme;
* the sources list.  An editable install follows the files of the directories it
  maps, but not a new top-level module or package, nor a mapped directory that
  went away: so the importable names at the top of the checkout, of ``src/`` and of
  every directory the installed ``.pth`` files and editable finders map into the
  checkout count, and whether each mapped path exists.  Compiled code is not
  followed at all: when the install has extension modules or the backend builds
  them, every compiled source (C, C++, Cython, Fortran, Rust, CMake, meson files)
  counts with its size and mtime.  A regular (non-editable) install copies the
  sources, so every file of the checkout counts with its size and mtime (version
  control, caches, build output and environments inside the checkout skipped).

The installed files themselves are checked by hash, separately (``develop_project.is_unchanged``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_source import __version__
from conda_source.build_files import build_inputs

if TYPE_CHECKING:
    from conda_source.engine.plan import Plan
    from conda_source.target import Environment

SKIPPED_DIRS = frozenset({"__pycache__", "build", "dist", "dist-conda", "node_modules", "target"})
COMPILED_SUFFIXES = frozenset(
    {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".pyx", ".pxd", ".pxi", ".f", ".f90", ".f95",
     ".rs", ".cu", ".m", ".mm", ".go", ".zig"}
)  # fmt: skip
COMPILED_FILES = frozenset({"CMakeLists.txt", "meson.build", "meson.options", "meson_options.txt", "Cargo.toml"})
COMPILED_BACKENDS = ("scikit_build_core", "mesonpy", "maturin", "pymsbuild", "enscons", "py_build_cmake")
EXTENSION_SUFFIXES = (".so", ".pyd", ".dylib")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_QUOTED_PATH = re.compile(r"""['"](/[^'"\n]+|[A-Za-z]:\\[^'"\n]+)['"]""")


def fingerprint(
    p: Plan,
    environment: Environment,
    editable: bool,
    installed: Iterable[str],
    read: Callable[[str], bytes],
    read_files: Sequence[str] = (),
) -> str:
    """The fingerprint of ``p`` installed into ``environment``.

    ``installed`` are the prefix-relative files of the install and ``read`` gives their
    content (the staged wheel at install time, the prefix on a re-run); ``read_files``, the files
    the backend's get_requires hook read (``Backend.read_files``, kept in the state).
    """
    root = str(p.project.root.resolve())
    inputs = Inputs(root, p.extras, p.groups, p.project.build_system.backend, tuple(read_files))
    return fingerprint_of(inputs, environment, editable, installed, read, p.build_inputs or None)


@dataclass(frozen=True)
class Inputs:
    """What the fingerprint takes from the plan: a re-run that has no plan yet keeps them in the state."""

    root: str
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    backend: str
    read: tuple[str, ...] = ()  # the files the get_requires hook read: setup.py may take requirements from any


def fingerprint_of(
    inputs: Inputs,
    environment: Environment,
    editable: bool,
    installed: Iterable[str],
    read: Callable[[str], bytes],
    captured: tuple[tuple[str, bytes], ...] | None = None,
) -> str:
    """``captured``: the build files as the plan read them (``build_inputs``); read now when not given.

    An install passes what its plan read, so a build file edited while the backend ran counts as
    changed on the next run; a re-run reads them now.
    """
    root = Path(inputs.root)
    material: list[Any] = [
        __version__,
        str(root),
        editable,
        list(inputs.extras),
        list(inputs.groups),
        _python(environment),
    ]
    digest = hashlib.sha256()
    digest.update(json.dumps(material).encode())
    for label, data in captured if captured is not None else build_inputs(root):
        digest.update(b"\0" + label.encode() + b"\0" + data)
    for path in inputs.read:
        digest.update(b"\0read\0" + path.encode("utf-8", "surrogateescape") + b"\0" + _content(Path(path)))
    files = sorted(installed)
    digest.update(json.dumps(sources(root, editable, files, read, inputs.backend)).encode())
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"-"  # gone (or unreadable): a change too


def _python(environment: Environment) -> list[Any]:
    interpreter = environment.interpreter
    try:
        stat = interpreter.resolve().stat()
        identity: list[Any] = [str(interpreter.resolve()), stat.st_size, stat.st_mtime_ns]
    except OSError:
        identity = [str(interpreter), None, None]
    scheme = {k: environment.paths.get(k) for k in ("purelib", "platlib", "scripts", "data")}
    implementation = environment.target.markers.get("implementation_name")
    return [str(interpreter), identity, str(environment.python), implementation, scheme]


def sources(root: Path, editable: bool, installed: list[str], read: Callable[[str], bytes], backend: str) -> list[Any]:
    """The part of the checkout an install depends on, as described in the module docstring."""
    if not editable:
        return ["copied", list(_tree(root, lambda _: True))]
    mapped = sorted(set(_mapped_paths(root, installed, read)))
    listed = sorted({root, root / "src", *(m for m in mapped if m.is_dir())})
    names = [[str(d.relative_to(root)), _importable(d)] for d in listed]
    exists = [[str(m.relative_to(root)), m.exists()] for m in mapped]
    compiled = any(f.endswith(EXTENSION_SUFFIXES) for f in installed) or backend.startswith(COMPILED_BACKENDS)
    tree = list(_tree(root, _is_compiled_source)) if compiled else []
    return ["editable", names, exists, tree]


def _mapped_paths(root: Path, installed: list[str], read: Callable[[str], bytes]) -> Iterator[Path]:
    """Paths inside the checkout that the install's ``.pth`` files and editable finders point at."""
    for file in installed:
        name = file.rsplit("/", 1)[-1]
        if file.endswith(".pth"):
            candidates = [
                line.strip() for line in _text(read, file).splitlines() if line.strip() and not line.startswith("#")
            ]
            candidates = [c for c in candidates if not c.startswith(("import ", "import\t"))]
        elif name.startswith("__editable__") and name.endswith(".py"):
            candidates = _QUOTED_PATH.findall(_text(read, file))
        else:
            continue
        for candidate in candidates:
            path = Path(os.path.normpath(candidate))
            if path.is_absolute() and path.is_relative_to(root):
                yield path


def _text(read: Callable[[str], bytes], file: str) -> str:
    try:
        return read(file).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _importable(directory: Path) -> list[str]:
    """The top-level names python could import from ``directory``."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    names = []
    for entry in entries:
        stem = entry.name.split(".", 1)[0]
        if not _IDENTIFIER.match(stem) or entry.name.startswith("."):
            continue
        if entry.is_dir() and "." not in entry.name and entry.name not in SKIPPED_DIRS:
            names.append(entry.name + "/")
        elif entry.is_file() and entry.name.endswith((".py", *EXTENSION_SUFFIXES)):
            names.append(entry.name)
    return sorted(names)


def _is_compiled_source(name: str) -> bool:
    return name in COMPILED_FILES or Path(name).suffix in COMPILED_SUFFIXES


def _tree(root: Path, wanted: Callable[[str], bool]) -> Iterator[list[Any]]:
    """(relative path, size, mtime) of the checkout's files that ``wanted`` names, in order."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not _skipped(Path(directory, d)))
        for name in sorted(files):
            if wanted(name):
                path = Path(directory, name)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                yield [path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns]


def _skipped(directory: Path) -> bool:
    """Version control, caches, build output, and environments (a prefix inside the checkout)."""
    name = directory.name
    if name.startswith(".") or name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    return (directory / "conda-meta").is_dir() or (directory / "pyvenv.cfg").is_file()
