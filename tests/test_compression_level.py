"""build-local's --compression-level: any zstd level 1..22 gives a package conda tools read and install,
lower levels give larger files, each level keeps zstd's own tables up to the writer's memory bound, and
a bad level, from the command line, conda-build's condarc setting or the API, is one clear error."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from backports import zstd
from rattler import IndexJson
from support import check_dist_info, check_paths_match_contents
from wheelmaker import make_wheel

from conda_source.artifact import WheelRequest, convert_wheel
from conda_source.artifact.writer import parse_level
from conda_source.cli import build_parser, main
from conda_source.cli.build_local import to_request
from conda_source.cli.invocation import Invocation
from conda_source.errors import SettingError
from conda_source.installer.installer import RattlerInstaller
from conda_source.target import probe
from conda_source.testing import make_test_prefix

RANGE = "use a whole number from 1 (fastest) to 22 (smallest files); the default is 19"
# Source code compresses as real packages do; 600 KiB is above the size where zstd picks its large tables.
SOURCE = "".join(f"def scaled_{i}(value):\n    return value * {i} + {i % 7}  # {i % 13}\n\n" for i in range(10000))


def source_wheel(directory: Path) -> Path:
    return make_wheel(directory, name="squeeze", files={"squeeze/__init__.py": SOURCE.encode()})


def pkg_frame(package: Path) -> bytes:
    with zipfile.ZipFile(package) as archive:
        return archive.read(next(n for n in archive.namelist() if n.startswith("pkg-")))


def window_size(frame: bytes) -> int:
    """The window a zstd frame asks its decoder for (RFC 8878, 3.1.1.1): what the compressor held too."""
    assert frame[:4] == b"\x28\xb5\x2f\xfd"
    descriptor = frame[4]
    if descriptor & 0x20:  # single segment: the window is the content, whose size follows
        raise AssertionError("a single-segment frame; use a larger input")
    exponent, mantissa = frame[5] >> 3, frame[5] & 7
    base = 1 << (10 + exponent)
    return base + base // 8 * mantissa


@pytest.mark.parametrize(
    ("given", "level"),
    [("1", 1), ("22", 22), (" 10 ", 10), (7, 7), ("٣", 3)],
    ids=["lowest", "highest", "spaces", "an-int", "other-digits"],
)
def test_levels_that_parse(given: object, level: int) -> None:
    assert parse_level(given) == level


@pytest.mark.parametrize("given", ["0", "23", "-1", "1.5", "high", "", True, None])
def test_levels_that_do_not(given: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_level(given)
    assert str(caught.value) == f"'{given}' is not a compression level: {RANGE}"


def test_level_1_installs_and_is_larger_than_level_19(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fixed timestamp: at level 19 zstd's output depends on the tar headers' mtime (29.3 KB at 1700000000,
    # 30.5 KB at 1763784456, 34.5 KB at the moment of a failing run), at worst too close to level 1's 34.8 KB.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wheel = source_wheel(tmp_path)
    built = {}
    for level in ("1", "19"):
        channel = tmp_path / f"channel-{level}"
        args = ["build-local", str(wheel), "--output-dir", str(tmp_path / level), "--channel-dir", str(channel)]
        assert main([*args, "--compression-level", level, "--json", "--no-user-mapping"]) == 0
        built[level] = Path(json.loads(capsys.readouterr().out)["packages"][0]["path"])
    fast, small = built["1"], built["19"]
    assert len(pkg_frame(fast)) > 1.1 * len(pkg_frame(small)), (fast.stat().st_size, small.stat().st_size)
    assert fast.stat().st_size > small.stat().st_size
    # The same package either way, read by py-rattler and conda-package-streaming.
    assert zstd.decompress(pkg_frame(fast)) == zstd.decompress(pkg_frame(small))
    index = IndexJson.from_package_archive(fast)
    assert (index.name.normalized, str(index.version), index.depends) == ("squeeze", "1.0", ["python"])
    check_paths_match_contents(fast)
    check_dist_info(fast)
    prefix = make_test_prefix(tmp_path / "env")
    RattlerInstaller(probe(prefix), [(tmp_path / "channel-1").as_uri()]).install(["squeeze"])
    run = [prefix / "bin" / "python", "-c", "import squeeze; print(squeeze.scaled_9999(2))"]
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout == f"{2 * 9999 + 9999 % 7}\n"


@pytest.mark.parametrize("level", [1, 19, 22])
def test_same_input_and_level_same_bytes(tmp_path: Path, level: int) -> None:
    wheel = source_wheel(tmp_path)
    first, second = (
        convert_wheel(WheelRequest(wheel, tmp_path / out, source_date_epoch=1_700_000_000, compression_level=level))
        for out in ("a", "b")
    )
    assert first[0].path.read_bytes() == second[0].path.read_bytes()


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5, 8, 10, 11, 13, 16])
def test_levels_within_the_bound_keep_zstds_own_tables(tmp_path: Path, level: int) -> None:
    """zstd's frame at that level, with nothing overridden (streaming with the size pledged, as the writer
    does; the chunk size does not change zstd's output)."""
    (package,) = convert_wheel(WheelRequest(source_wheel(tmp_path), tmp_path / "out", compression_level=level))
    frame = pkg_frame(package.path)
    tar = zstd.decompress(frame)
    compressor = zstd.ZstdCompressor(level)
    compressor.set_pledged_input_size(len(tar))
    chunks = [compressor.compress(tar[start : start + 65536]) for start in range(0, len(tar), 65536)]
    assert frame == b"".join([*chunks, compressor.flush()])


@pytest.mark.parametrize(("level", "window"), [(19, 8 << 20), (22, 8 << 20), (10, 4 << 20)])
def test_high_levels_keep_an_8_mib_window(tmp_path: Path, level: int, window: int) -> None:
    """On 24 MiB of content zstd's level 22 would use a 32 MiB window (and a 715 MiB compressor)."""
    noise = bytes(range(256)) * 4096 + zstd.compress(SOURCE.encode(), 1)
    wheel = make_wheel(tmp_path, name="wide", files={"wide/data.bin": noise * (24 * (1 << 20) // len(noise))})
    (package,) = convert_wheel(WheelRequest(wheel, tmp_path / "out", compression_level=level))
    assert window_size(pkg_frame(package.path)) == window


def request_for(argv: list[str], setting: str | None) -> int:
    args = build_parser().parse_args(["build-local", "x.whl", *argv])
    return to_request(args, Invocation(compression_level=setting)).compression_level


@pytest.mark.parametrize(
    ("argv", "setting", "level"),
    [([], None, 19), ([], "7", 7), (["--compression-level", "3"], "7", 3), (["--compression-level", "3"], None, 3)],
    ids=["default", "condarc", "option-wins", "option"],
)
def test_option_else_condarc_setting_else_19(argv: list[str], setting: str | None, level: int) -> None:
    assert request_for(argv, setting) == level


def test_bad_condarc_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingError) as caught:
        request_for([], "max")
    assert str(caught.value) == (
        f"condarc setting conda_build: zstd_compression_level: 'max' is not a compression level: {RANGE} "
        "(correct it in the .condarc that 'conda config --show-sources' lists, or pass --compression-level N)"
    )
    assert request_for(["--compression-level", "5"], "max") == 5  # the option wins, and is all that is read


@pytest.mark.parametrize("given", ["0", "23", "fast"])
def test_bad_option(tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["build-local", str(tmp_path / "x.whl"), "--compression-level", given])
    assert caught.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == (
        f"conda-source build-local: error: argument --compression-level: '{given}' is not a compression level: {RANGE}"
    )
