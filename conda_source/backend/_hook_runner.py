"""Run by the *target* interpreter (``python -c``): stdlib only, serves every PEP 517 hook of one build.

One process imports the backend once and answers hook calls until its request
pipe closes: one JSON line in (``{"hook": NAME, "kwargs": {...}}``), one JSON
line out, with the fields pyproject-hooks' in-process script writes
(``return_val``, ``no_backend``, ``hook_missing``, ``unsupported``, ``warnings``).
The semantics are pyproject-hooks' own: the backend comes from
``_PYPROJECT_HOOKS_BUILD_BACKEND`` and, with ``backend-path``, only from there;
a missing optional hook returns its default; a missing ``prepare_metadata_*``
falls back to building the wheel, which the build hook then reuses.  A hook that
raises prints its traceback and ends the process with status 1, as a one-hook
process would; ``sys.exit`` and signals end it as they would have.

The backend's own output goes to the process's stdout and stderr; responses go
to a separate pipe (file descriptors in ``argv``), so nothing it prints can be
mistaken for an answer.  The answer of a ``get_requires_for_build_*`` hook also
lists the files it read outside the interpreter's own directories (``read``, seen
by an audit hook; what it wrote itself left out): setup.py may read anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import traceback
import warnings
from glob import glob
from importlib import import_module
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import source_from_cache
from typing import Any

WHEEL_BUILT_MARKER = "PYPROJECT_HOOKS_ALREADY_BUILT_WHEEL"  # pyproject-hooks' marker, so either frontend's works


class BackendUnavailable(Exception):
    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trace = trace


class HookMissing(Exception):
    def __init__(self, hook_name: str | None = None) -> None:
        super().__init__(hook_name)
        self.hook_name = hook_name


class GotUnsupportedOperation(Exception):
    def __init__(self, trace: str) -> None:
        super().__init__(trace)
        self.trace = trace


class _BackendPathFinder:
    """Finds top-level modules in ``backend-path`` first; the backend itself only there."""

    def __init__(self, backend_path: list[str], backend_module: str) -> None:
        self.backend_path = backend_path
        self.backend_module = backend_module
        self.backend_parent = backend_module.partition(".")[0]

    def find_spec(self, fullname: str, _path: object = None, _target: object = None) -> ModuleSpec | None:
        if "." in fullname:
            return None
        spec = PathFinder.find_spec(fullname, path=self.backend_path)
        if spec is None and fullname == self.backend_parent:
            raise BackendUnavailable(f"Cannot find module {self.backend_module!r} in {self.backend_path!r}")
        return spec

    def find_distributions(self, context: Any = None) -> Any:
        from importlib.metadata import DistributionFinder, MetadataPathFinder

        name = context.name if context else None
        found = DistributionFinder.Context(name=name, path=self.backend_path)
        return MetadataPathFinder.find_distributions(context=found)


_backend: list[Any] = []  # the imported backend object, once it imported
_failed: list[Exception] = []  # why the import before the first request failed: the first hook reports it


def _build_backend() -> Any:
    if _backend:
        return _backend[0]
    if _failed:
        raise _failed[0]  # as it was raised: an import runs once per process, as in a one-hook process
    paths = json.loads(os.environ.get("_PYPROJECT_HOOKS_BACKEND_PATH_JSON") or "[]")
    mod_path, _, obj_path = os.environ["_PYPROJECT_HOOKS_BUILD_BACKEND"].partition(":")
    if paths and not any(isinstance(f, _BackendPathFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _BackendPathFinder(paths, mod_path))
    try:
        obj: Any = import_module(mod_path)
    except ImportError:
        raise BackendUnavailable(f"Cannot import {mod_path!r}", traceback.format_exc()) from None
    for part in obj_path.split(".") if obj_path else ():
        obj = getattr(obj, part)
    _backend.append(obj)
    return obj


def get_requires_for_build_wheel(config_settings: Any) -> Any:
    hook = getattr(_build_backend(), "get_requires_for_build_wheel", None)
    return [] if hook is None else hook(config_settings)


def get_requires_for_build_editable(config_settings: Any) -> Any:
    hook = getattr(_build_backend(), "get_requires_for_build_editable", None)
    return [] if hook is None else hook(config_settings)


def get_requires_for_build_sdist(config_settings: Any) -> Any:
    hook = getattr(_build_backend(), "get_requires_for_build_sdist", None)
    return [] if hook is None else hook(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any, _allow_fallback: bool) -> Any:
    backend = _build_backend()
    hook = getattr(backend, "prepare_metadata_for_build_wheel", None)
    if hook is not None:
        return hook(metadata_directory, config_settings)
    if not _allow_fallback:
        raise HookMissing()
    name = backend.build_wheel(metadata_directory, config_settings)
    return _metadata_from_wheel(name, metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: Any, _allow_fallback: bool) -> Any:
    backend = _build_backend()
    hook = getattr(backend, "prepare_metadata_for_build_editable", None)
    if hook is not None:
        return hook(metadata_directory, config_settings)
    if not _allow_fallback:
        raise HookMissing()
    build = getattr(backend, "build_editable", None)
    if build is None:
        raise HookMissing(hook_name="build_editable")
    return _metadata_from_wheel(build(metadata_directory, config_settings), metadata_directory)


def build_wheel(wheel_directory: str, config_settings: Any, metadata_directory: str | None = None) -> Any:
    prebuilt = _already_built(metadata_directory)
    if prebuilt:
        shutil.copy2(prebuilt, wheel_directory)
        return os.path.basename(prebuilt)
    return _build_backend().build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory: str, config_settings: Any, metadata_directory: str | None = None) -> Any:
    hook = getattr(_build_backend(), "build_editable", None)
    if hook is None:
        raise HookMissing()
    prebuilt = _already_built(metadata_directory)
    if prebuilt:
        shutil.copy2(prebuilt, wheel_directory)
        return os.path.basename(prebuilt)
    return hook(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory: str, config_settings: Any) -> Any:
    backend = _build_backend()
    unsupported = getattr(backend, "UnsupportedOperation", None)
    try:
        return backend.build_sdist(sdist_directory, config_settings)
    except Exception as exc:
        if unsupported is not None and isinstance(exc, unsupported):
            raise GotUnsupportedOperation(traceback.format_exc()) from None
        raise


def _supported_features() -> list[str]:
    return ["build_editable"] if hasattr(_build_backend(), "build_editable") else []


def _metadata_from_wheel(name: str, metadata_directory: str) -> str:
    from zipfile import ZipFile

    with open(os.path.join(metadata_directory, WHEEL_BUILT_MARKER), "wb"):
        pass
    with ZipFile(os.path.join(metadata_directory, name)) as archive:
        members = [p for p in archive.namelist() if re.match(r"[^/\\]+-[^/\\]+\.dist-info/", p)]
        if not members:
            raise Exception("No .dist-info folder found in wheel")
        archive.extractall(path=metadata_directory, members=members)
    return members[0].split("/")[0]


def _already_built(metadata_directory: str | None) -> str | None:
    if not metadata_directory:
        return None
    parent = os.path.dirname(metadata_directory)
    if not os.path.isfile(os.path.join(parent, WHEEL_BUILT_MARKER)):
        return None
    wheels = glob(os.path.join(parent, "*.whl"))
    if len(wheels) != 1:
        print("Found wheel built marker, but not exactly one .whl file; will call the build hook.")
        return None
    return wheels[0]


HOOKS = {
    f.__name__: f
    for f in (
        get_requires_for_build_wheel,
        get_requires_for_build_editable,
        get_requires_for_build_sdist,
        prepare_metadata_for_build_wheel,
        prepare_metadata_for_build_editable,
        build_wheel,
        build_editable,
        build_sdist,
        _supported_features,
    )
}


def import_early() -> list[dict[str, Any]]:
    """Import the backend before the first request arrives (the caller may start this process ahead of
    time, so the import overlaps its own work); the warnings it raised, for the first answer.  A backend
    that fails to import is not imported again: the first hook reports the failure as usual."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _build_backend()
        except Exception as exc:
            _failed.append(exc)
            return []
    return _user_warnings(caught)


def _user_warnings(caught: list[warnings.WarningMessage]) -> list[dict[str, Any]]:
    return [
        {"message": str(w.message), "filename": w.filename, "lineno": w.lineno}
        for w in caught
        if isinstance(w.category, type) and issubclass(w.category, UserWarning)
    ]


_LIBRARY = tuple({os.path.join(os.path.realpath(p), "") for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
_SYSTEM = ("/proc/", "/sys/", "/dev/")
_opened: list[dict[str, bool]] = []  # while a get_requires hook runs: each file it opened -> opened to write
_hooked: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _opened or event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    mode, flags = args[1], args[2]
    writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & (os.O_WRONLY | os.O_RDWR))
    path = os.path.abspath(os.fsdecode(args[0]))
    _opened[0][path] = _opened[0].get(path, False) or writes


def _reading(hook: str) -> dict[str, bool] | None:
    """Record what ``hook`` opens, if it is a get_requires hook and the interpreter has audit hooks."""
    if not hook.startswith("get_requires_for_build") or not hasattr(sys, "addaudithook"):
        return None
    if not _hooked:
        sys.addaudithook(_audit)  # for the rest of the process: it records only while _opened holds a table
        _hooked.append(True)
    _opened.append({})
    return _opened[0]


def _read_files(opened: dict[str, bool]) -> list[str]:
    """The files read and not written, the interpreter's own and the system's left out; a module's source
    for its cached bytecode (which is read instead while it is current)."""
    real = {_source(path): os.path.realpath(path) for path, writes in opened.items() if not writes}
    return sorted(p for p, r in real.items() if not r.startswith(_LIBRARY + _SYSTEM) and not os.path.isdir(r))


def _source(path: str) -> str:
    if path.endswith(".pyc") and os.path.basename(os.path.dirname(path)) == "__pycache__":
        try:
            return source_from_cache(path)
        except ValueError:
            return path
    return path


def serve(requests: Any, responses: Any, early: list[dict[str, Any]] | None = None) -> None:
    pending = list(early or ())
    for line in requests:
        request = json.loads(line)
        hook = HOOKS[request["hook"]]
        out: dict[str, Any] = {"unsupported": False, "return_val": None}
        opened = _reading(request["hook"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out["return_val"] = hook(**request["kwargs"])
            except BackendUnavailable as exc:
                out.update(no_backend=True, traceback=exc.trace, backend_error=exc.message)
            except GotUnsupportedOperation as exc:
                out.update(unsupported=True, traceback=exc.trace)
            except HookMissing as exc:
                out.update(hook_missing=True, missing_hook_name=exc.hook_name or request["hook"])
            finally:
                _opened.clear()
        if opened is not None:
            out["read"] = _read_files(opened)
        out["warnings"] = [*pending, *_user_warnings(caught)]
        pending = []
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            responses.write(json.dumps(out) + "\n")
            responses.flush()
        except BrokenPipeError:  # nobody waits for the answer (a hook asked ahead, then not needed): done
            os.dup2(os.open(os.devnull, os.O_WRONLY), responses.fileno())
            return


def main() -> None:
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # ``-c`` puts the working directory (the project) first; a one-hook script would not
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    early = import_early()
    with open(read_fd, encoding="utf-8") as requests, open(write_fd, "w", encoding="utf-8") as responses:
        serve(requests, responses, early)


if __name__ == "__main__":
    main()
