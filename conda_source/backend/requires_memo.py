"""What a backend's ``get_requires_for_build_*`` hook answered, remembered from one run to the next.

It is the first hook of every build, and not a cheap one: setuptools runs the
project's whole configuration (setup.py included) to answer it, about as long
as the build itself.  For the backends in ``MEMO_BACKENDS`` the answer is a
function of the project's build files and of what the environment has
installed, so it is kept in the per-user cache (``cache.py``) under a key made
of everything it can depend on:

- the hook, the backend (imported from the environment, never from
  ``backend-path``) and the project's directory;
- the environment's interpreter (its path and the file it resolves to, by size
  and mtime);
- the build files and the files their dynamic metadata reads, by content
  (``build_files.build_inputs``: pyproject.toml, setup.py, setup.cfg, ...);
- every package installed: the names of ``conda-meta``'s records and of the
  ``.dist-info``/``.egg-info`` entries of site-packages (pip's installs too),
  except the project's own (installing the project does not change what its
  build asks for);
- the activated environment's variables (all but the shell's own ``_``,
  ``OLDPWD``, ``PWD`` and ``SHLVL``).

Any change to any of them is another key.  Beyond these, the hook may read any file
(setup.py is a program): the answer is kept with the files the hook read outside
the interpreter's directories (the runner's audit hook lists them), by content,
and used only while each is as it was (a file it only looks for, without opening
it, is not seen; without audit hooks, as on PyPy, nothing is remembered).  Once what the hook asked for is
installed, the answer is remembered for the environment as it is then, too: a
PEP 517 frontend builds on the answer without asking again, and so does the next
run (otherwise the first reinstall would always ask once more).  Backends that look at the
machine beyond these (scikit-build-core and meson-python ask for cmake or ninja
only when none is on PATH, maturin for a Rust toolchain) and in-tree backends
are asked every time.  ``CONDA_SOURCE_NO_CACHE=1`` turns the memo off with the
rest of the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from conda_source import cache
from conda_source.build_files import build_inputs, canonical_name, project_name

if TYPE_CHECKING:
    from conda_source.project import ProjectSpec

KIND = "requires"
MEMO_BACKENDS = frozenset(
    {
        "setuptools.build_meta",
        "setuptools.build_meta:__legacy__",
        "hatchling.build",
        "flit_core.buildapi",
        "poetry.core.masonry.api",
        "pdm.backend",
    }
)
_SHELL_OWN = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})


def memo_key(
    hook: str,
    root: Path,
    backend: str,
    backend_path: Sequence[str],
    python: Path,
    environ: Mapping[str, str],
    prefix: Path,
) -> str | None:
    """The cache key of ``hook``'s answer for this build, or None when it is not remembered."""
    if backend not in MEMO_BACKENDS or backend_path or cache.directory() is None:
        return None
    root = root.resolve()
    try:
        inputs = build_inputs(root)
        resolved = python.resolve()
    except OSError:
        return None
    files = hashlib.sha256()
    for label, data in inputs:
        files.update(label.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(data).digest())
    own = canonical_name(project_name(root) or "")
    variables = sorted((k, v) for k, v in environ.items() if k not in _SHELL_OWN)
    return cache.key(
        KIND,
        hook,
        backend,
        str(root),
        [str(python), cache.stat_of(resolved)],
        files.hexdigest(),
        _installed(prefix, own),
        hashlib.sha256(repr(variables).encode("utf-8", "surrogateescape")).hexdigest(),
    )


def project_key(hook: str, project: ProjectSpec, python: Path, environ: Mapping[str, str], prefix: Path) -> str | None:
    """``memo_key`` for a loaded project."""
    system = project.build_system
    return memo_key(hook, project.root, system.backend, system.backend_path, python, environ, prefix)


class Answer(NamedTuple):
    texts: list[str]  # what the hook returned
    read: list[str] | None  # the files it read (``HookProcess.read``); None: not known, not remembered


def recall(key: str | None) -> Answer | None:
    """The answer remembered under ``key``, while every file the hook read is as it was; or None."""
    entry = cache.load(KIND, key) if key is not None else None
    if not isinstance(entry, dict) or not isinstance(texts := entry.get("answer"), list):
        return None
    read = entry.get("read")
    if not isinstance(read, dict) or not all(isinstance(text, str) for text in texts):
        return None
    if any(_digest(Path(path)) != digest for path, digest in read.items()):
        return None
    return Answer(texts, list(read))


def remember(key: str | None, answer: Answer) -> None:
    if key is not None and answer.read is not None:
        read = {path: _digest(Path(path)) for path in answer.read}
        cache.store(KIND, key, {"answer": list(answer.texts), "read": read})


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "-"
    except OSError:
        return "?"


def _installed(prefix: Path, own: str) -> list[str]:
    """The names of every installed package's record (conda's, and the dist-info of site-packages), but
    the project's own (``NAME-VERSION-BUILD.json``, ``NAME-VERSION.dist-info``)."""
    records = _entries(prefix / "conda-meta")
    names = sorted(e for e in records if e.endswith(".json") and canonical_name(e.rsplit("-", 2)[0]) != own)
    for site in [*sorted(prefix.glob("lib/python*/site-packages")), prefix / "Lib" / "site-packages"]:
        names += sorted(
            f"{site.relative_to(prefix).as_posix()}/{e}"
            for e in _entries(site)
            if e.endswith((".dist-info", ".egg-info")) and canonical_name(e.split("-", 1)[0]) != own
        )
    return names


def _entries(directory: Path) -> list[str]:
    """The entry names of a directory (none when it is missing or unreadable)."""
    try:
        return [entry.name for entry in directory.iterdir()]
    except OSError:
        return []
