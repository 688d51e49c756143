"""What every front end shows of a dependency change: a name both unlinked and linked is one line that says
how its version moved, the rest are new (+) or removed (-)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda_source.reporting import Change, dependency_lines, describe_plan


@pytest.mark.parametrize(
    ("link", "unlink", "expected"),
    [
        pytest.param(
            ["file:///tmp/ch::flit-core-3.12.0-py_0"],
            ["file:///tmp/ch::flit-core-4.2.0-py_0"],
            ["  ~ flit-core 4.2.0 (py_0) -> 3.12.0 (py_0), downgraded"],
            id="downgrade-conda-dists-with-channel",
        ),
        pytest.param(
            ["conda-forge/noarch::flit-core-4.2.0-pyhd8ed1ab_0"],
            ["flit-core-3.12.0-py_0"],
            ["  ~ flit-core 3.12.0 (py_0) -> 4.2.0 (pyhd8ed1ab_0), upgraded"],
            id="upgrade-one-side-without-channel",
        ),
        pytest.param(
            ["flit-core-4.2.0-pyhd8ed1ab_0"],
            ["conda-forge/noarch::flit-core-3.12.0-py_0"],
            ["  ~ flit-core 3.12.0 (py_0) -> 4.2.0 (pyhd8ed1ab_0), upgraded"],
            id="upgrade-the-new-side-without-channel",
        ),
        pytest.param(
            ["conda-forge/noarch::flit-core-4.2.0-pyhd8ed1ab_0"],
            ["file:///c::flit-core-3.12.0-py_0"],
            ["  ~ flit-core 3.12.0 (py_0) -> 4.2.0 (pyhd8ed1ab_0), upgraded, channel file:///c -> conda-forge/noarch"],
            id="upgrade-and-another-channel",
        ),
        pytest.param(
            ["python-dateutil-2.9.0-py_1"],
            ["python-dateutil-2.9.0-py_0"],
            ["  ~ python-dateutil 2.9.0 (py_0) -> 2.9.0 (py_1), rebuilt"],
            id="rebuilt-name-with-dashes",
        ),
        pytest.param(
            ["other::six-1.16.0-py_0"],
            ["file:///tmp/ch::six-1.16.0-py_0"],
            ["  ~ six 1.16.0 (py_0) -> 1.16.0 (py_0), replaced, channel file:///tmp/ch -> other"],
            id="same-build-from-another-channel",
        ),
        pytest.param(
            ["odd-pkg-1.0!!-0"],
            ["odd-pkg-2.0-0"],
            ["  ~ odd-pkg 2.0 (0) -> 1.0!! (0), replaced"],
            id="unparsable-version",
        ),
        pytest.param(
            ["file:///c::setuptools-scm-8.1.0-py_0", "six-1.16.0-py_0"],
            ["file:///c::setuptools-75.6.0-py_0"],
            [
                "  + file:///c::setuptools-scm-8.1.0-py_0",
                "  + six-1.16.0-py_0",
                "  - file:///c::setuptools-75.6.0-py_0",
            ],
            id="new-and-removed-a-name-prefix-is-no-pair",
        ),
        pytest.param(
            ["a-2-0", "b-1-0"],
            ["c-1-0", "a-1-0"],
            ["  ~ a 1 (0) -> 2 (0), upgraded", "  + b-1-0", "  - c-1-0"],
            id="pairs-first-then-new-then-removed",
        ),
        pytest.param([], [], [], id="nothing"),
    ],
)
def test_dependency_lines(link: list[str], unlink: list[str], expected: list[str]) -> None:
    assert dependency_lines(link, unlink) == expected


def test_the_plan_shows_a_downgrade_as_one_line() -> None:
    change = Change(Path("/src/proj"), "install", "proj", "1.0")
    lines = describe_plan([change], ["file:///tmp/ch::flit-core-3.12.0-py_0"], ["file:///tmp/ch::flit-core-4.2.0-py_0"])
    assert lines == [
        "Projects:",
        "  proj 1.0: install (editable) from /src/proj",
        "Dependencies: 1 package(s) to link, 1 to unlink",
        "  ~ flit-core 4.2.0 (py_0) -> 3.12.0 (py_0), downgraded",
    ]


def summary(link: tuple[str, ...], unlink: tuple[str, ...]) -> list[str]:
    """The text summary after a develop-install whose solve linked and unlinked these (inside conda, conda's
    solver may change installed packages; the standalone one never does)."""
    from conda_source.cli.develop_install import render
    from conda_source.engine.develop_types import DevelopResult, InstalledProject
    from conda_source.installer.installer import Transaction

    project = InstalledProject("proj", "1.0", "editable_h1_0", Path("/src/proj"), True, Path("/env/r.json"), 3)
    return render(DevelopResult((), Transaction(("flit-core <4",), link, unlink), (project,))).splitlines()[:-3]


def test_the_summary_shows_a_downgrade_and_counts_the_unlinked() -> None:
    assert summary(
        ("file:///tmp/ch::flit-core-3.12.0-py_0", "file:///tmp/ch::six-1.16.0-py_0"),
        ("file:///tmp/ch::flit-core-4.2.0-py_0",),
    ) == [
        "Dependencies: 2 package(s) linked, 1 unlinked",
        "  ~ flit-core 4.2.0 (py_0) -> 3.12.0 (py_0), downgraded",
        "  + file:///tmp/ch::six-1.16.0-py_0",
    ]


def test_the_summary_without_unlinks_reads_as_before() -> None:
    assert summary(("six-1.16.0-py_0",), ()) == ["Dependencies: 1 package(s) linked", "  + six-1.16.0-py_0"]
    assert summary((), ()) == ["Dependencies: already installed"]
