"""A started hook runner (``_hook_runner.py``, run by the target's python): its pipes, its output, its end.

``hook_process.HookProcess`` decides which process serves a hook; this module only starts one
(``launch``), sends it requests and reads its answers (``Running``), and ends it: closing the
request pipe ends a runner, which is reaped when the next one starts (``_reap``), or, if it was
dropped without being closed, by a finalizer (``_abandon``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import weakref
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import IO, Any


@cache
def runner_source() -> str:
    return (Path(__file__).parent / "_hook_runner.py").read_text(encoding="utf-8")


def request_line(hook: str, kwargs: Mapping[str, Any]) -> str:
    return json.dumps({"hook": hook, "kwargs": kwargs})


def launch(
    python: str,
    source: str,
    backend: str,
    paths: list[str] | None,
    environ: Mapping[str, str],
    token: object,
    on_output: Callable[[str], object],
) -> Running:
    extra = {"_PYPROJECT_HOOKS_BUILD_BACKEND": backend}
    if paths:
        extra["_PYPROJECT_HOOKS_BACKEND_PATH_JSON"] = json.dumps(paths)
    return Running(python, source, {**environ, **extra}, environ, token, on_output)


class Running:
    """A started runner: its pipes, and the file its stdout and stderr go to."""

    def __init__(
        self,
        python: str,
        cwd: str,
        env: Mapping[str, str],
        environ: Mapping[str, str],
        token: object,
        on_output: Callable[[str], object],
    ) -> None:
        self._environ = dict(environ)
        self._token = token
        self._on_output = on_output
        self._output: IO[bytes] = tempfile.TemporaryFile(prefix="conda-source-hooks-")  # noqa: SIM115 (closed in close)
        self._read = 0
        self._ahead: str | None = None  # a request sent before anyone asked (start_early), not answered yet
        self._ahead_into: str | None = None  # the scratch directory of a build asked ahead
        _reap()
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            self._popen = subprocess.Popen(
                [python, "-c", runner_source(), str(request_read), str(response_write)],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,  # it may run while the user is asked: the answer is not the backend's
                stdout=self._output,
                stderr=subprocess.STDOUT,
                pass_fds=(request_read, response_write),
            )
        except BaseException:
            os.close(request_write)
            os.close(response_read)
            self._output.close()
            raise
        finally:  # the child's ends: it has its own copies now
            os.close(request_read)
            os.close(response_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        self._responses = os.fdopen(response_read, encoding="utf-8")
        # A runner dropped without close() (a Backend used outside ``build``): end it and close its files.
        self._finalizer = weakref.finalize(self, _abandon, self._popen, (self._requests, self._responses, self._output))

    @property
    def returncode(self) -> int:
        return self._popen.wait()

    def adopt(self, on_output: Callable[[str], object]) -> None:
        """Hand what it printed so far, and from now on, to ``on_output``."""
        self._on_output = on_output
        self._collect()

    def serves(self, environ: Mapping[str, str], token: object) -> bool:
        return self._popen.poll() is None and token == self._token and dict(environ) == self._environ

    @property
    def ahead(self) -> str | None:
        """The request sent ahead (``send_ahead``) whose answer nobody has read yet."""
        return self._ahead

    def takes(self, hook: str, kwargs: Mapping[str, Any]) -> bool:
        """Whether a build whose first call is ``hook(**kwargs)`` can take this process over: nothing was asked
        ahead, or that very call was, or the same build hook into its own scratch directory (``ahead_into``)."""
        if self._ahead is None or self._ahead == request_line(hook, kwargs):
            return True
        return self._ahead_into is not None and self._ahead == request_line(hook, _into(kwargs, self._ahead_into))

    def send_ahead(self, hook: str, kwargs: Mapping[str, Any]) -> None:
        """Ask ``hook`` now; its answer is read by the ``call`` that asks the same (the only one taken over).

        A build hook asked ahead writes into its own scratch directory (``wheel_directory``): the call
        that takes it over moves the wheel into the directory it asks for; a process closed with that
        build unread is ended, and the scratch directory removed."""
        self._ahead = request_line(hook, kwargs)
        self._ahead_into = str(kwargs["wheel_directory"]) if "wheel_directory" in kwargs else None
        try:
            self._requests.write(self._ahead + "\n")
            self._requests.flush()
        except BrokenPipeError:
            pass  # it ended already: the call that comes reads its end

    def call(self, hook: str, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Send one request and read its answer; None when the process ended instead."""
        assert self.takes(hook, kwargs)  # HookProcess takes over only a process asked this very call ahead
        ahead, into, self._ahead, self._ahead_into = self._ahead, self._ahead_into, None, None
        if ahead is None:
            try:
                self._requests.write(request_line(hook, kwargs) + "\n")
                self._requests.flush()
            except BrokenPipeError:
                pass  # it ended already: its end is read below
        try:
            answer = self._answer()
            if into is not None and answer is not None and isinstance(answer.get("return_val"), str):
                name = answer["return_val"]
                shutil.move(Path(into, name), Path(str(kwargs["wheel_directory"]), name))
            return answer
        finally:
            if into is not None:
                shutil.rmtree(into, ignore_errors=True)

    def _answer(self) -> dict[str, Any] | None:
        """Read the answer to the request sent last; None when the process ended instead.

        Interrupted while it waits (Ctrl-C, an error elsewhere), it ends the process: no backend
        goes on building for a run that is over."""
        try:
            while not select.select([self._responses], [], [], 0.2)[0]:
                self._collect()  # what the backend prints, while it runs (-v shows it live)
            line = self._responses.readline()
        except BrokenPipeError:
            line = ""
        except BaseException:
            self._popen.terminate()
            raise
        if not line:
            self._popen.wait()
            self._collect()
            self.close()
            return None
        self._collect()
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """Close its request pipe, which ends it; its exit is not waited for (interpreter shutdown takes
        tens of milliseconds), it is reaped later.  A build asked ahead and never taken over is stopped
        and its scratch directory removed."""
        with contextlib.suppress(OSError):
            self._requests.close()
        if self._ahead_into is not None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout=5)
            except subprocess.TimeoutExpired:  # a backend that ignores SIGTERM: it must not write there afterwards
                self._popen.kill()
                self._popen.wait()
            shutil.rmtree(self._ahead_into, ignore_errors=True)
            self._ahead, self._ahead_into = None, None
        self._collect()
        self._responses.close()
        self._output.close()
        self._finalizer.detach()
        _exiting.append(self._popen)

    def _collect(self) -> None:
        """Hand on what the process printed since the last time (read without moving its write offset)."""
        if self._output.closed:
            return
        fd = self._output.fileno()
        size = os.fstat(fd).st_size
        if size > self._read:
            data = os.pread(fd, size - self._read, self._read)
            self._read += len(data)
            self._on_output(data.decode("utf-8", errors="replace"))


def _into(kwargs: Mapping[str, Any], directory: str) -> dict[str, Any]:
    return {**kwargs, "wheel_directory": directory}


_exiting: list[subprocess.Popen[bytes]] = []  # closed runners, reaped when the next one starts


def _reap() -> None:
    _exiting[:] = [p for p in _exiting if p.poll() is None]


def _abandon(popen: subprocess.Popen[bytes], files: tuple[IO[Any], ...]) -> None:
    for file in files:
        with contextlib.suppress(OSError):
            file.close()
    _exiting.append(popen)
