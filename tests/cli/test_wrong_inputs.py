"""Every subcommand against a table of wrong inputs: the exit code, and one wording per problem (issue 17).

A message names the path as the user typed it (never a store object), says "does not exist" when it
does not, and words the same problem the same way in every subcommand.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nwbzarr import NWBHDF5IO, NWBZarrIO
from nwbzarr.cli import main
from nwbzarr.model import NWBFile
from nwbzarr.storage.destination import ACCEPTED_SUFFIXES
from nwbzarr.testing.tutorial import build_tutorial_file

READERS = ["info", "validate", "verify", "plot", "convert"]


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a store, an HDF5 file, a text file and a folder of notes (no NWB file)."""
    root = tmp_path_factory.mktemp("wrong")
    nwbfile = build_tutorial_file(frames=4, size=8)
    assert isinstance(nwbfile, NWBFile)
    with NWBZarrIO(root / "a.nwb.zarr", "w") as io:
        io.write(nwbfile)
    with NWBHDF5IO(root / "a.nwb", "w") as io:
        io.write(nwbfile)
    (root / "notes.txt").write_text("precious")
    (root / "folder").mkdir()
    (root / "folder" / "notes.txt").write_text("precious")
    (root / "folder" / "sub").mkdir()
    return root


def _run(
    argv: list[str], place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    monkeypatch.chdir(place)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: bad usage
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Store(" not in err and "unexpected error" not in err, err
    return code, err


def _extra(command: str) -> list[str]:
    return ["out.nwb.zarr", "--quiet"] if command == "convert" else ["-o", "out.png"] if command == "plot" else []


@pytest.mark.parametrize("command", READERS)
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nope.nwb.zarr", "nope.nwb.zarr: does not exist"),
        ("file://nope.nwb.zarr", "file://nope.nwb.zarr: does not exist"),
        ("notes.txt", r"notes.txt: not an NWB file \(a file that is not HDF5\)"),
        ("folder", r"folder: not an NWB file \(a folder that holds no Zarr store\)"),
        ("memory://nowhere/x.nwb.zarr", r"memory://nowhere/x.nwb.zarr: does not exist \(no NWB store at this URL\)"),
    ],
)
def test_a_missing_or_foreign_input_is_worded_alike(
    command: str,
    path: str,
    message: str,
    place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, err = _run([command, path, *_extra(command)], place, capsys, monkeypatch)
    assert code == 1
    assert re.fullmatch(f"nwbzarr {command}: {message}\n", err), err
    assert (place / "folder" / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize("command", ["verify"])  # plot reads HDF5 too (issue 12)
def test_a_format_the_subcommand_cannot_read_says_which_it_reads(
    command: str, place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = _run([command, "a.nwb", *_extra(command)], place, capsys, monkeypatch)
    assert code == 1
    assert err.startswith(f"nwbzarr {command}: a.nwb: an HDF5 file; `nwbzarr {command}` reads a Zarr store"), err
    assert "nwbzarr convert a.nwb OUT.nwb.zarr" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.nwb.zarr", "a.nwb.zarr", "--overwrite"], "a.nwb.zarr: the destination is the source"),
        (["a.nwb", "a.nwb", "--overwrite"], "a.nwb: the destination is the source"),
        (["a.nwb.zarr", "a.nwb.zarr/inner.nwb.zarr"], "a.nwb.zarr/inner.nwb.zarr: the destination lies inside"),
        (["a.nwb.zarr", ".", "--to", "zarr", "--overwrite"], r"\.: the destination contains the source"),
        (["a.nwb.zarr", "folder", "--to", "zarr", "--overwrite"], "folder: a non-empty folder that is not a Zarr"),
        (["a.nwb.zarr", "notes.txt", "--to", "hdf5", "--overwrite"], "notes.txt: an existing file that is not an NWB"),
        (["a.nwb.zarr", "a.nwb", "--to", "zarr", "--overwrite"], "a.nwb: an existing HDF5 file"),
        (["a.nwb.zarr", "out.txt"], "out.txt: the name ends in no NWB format's suffix"),
        (["a.nwb", "a.nwb.zarr"], r"a.nwb.zarr already exists; pass --overwrite"),
        (["a.nwb.zarr", "a.nwb"], r"a.nwb already exists; pass --overwrite"),
    ],
)
def test_convert_refuses_destinations_it_could_destroy(
    argv: list[str], message: str, place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sorted(str(p.relative_to(place)) for p in place.rglob("*"))
    code, err = _run(["convert", *argv, "--quiet"], place, capsys, monkeypatch)
    assert code == 1
    assert re.match(f"nwbzarr convert: {message}", err), err
    assert sorted(str(p.relative_to(place)) for p in place.rglob("*")) == before  # nothing made, nothing lost
    if "suffix" in message:
        assert all(suffix in err for suffix in ACCEPTED_SUFFIXES)


def test_demo_refuses_a_folder_that_is_not_a_store(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = _run(["demo", "-o", "folder", "--quiet"], place, capsys, monkeypatch)
    assert code == 1 and err.startswith("nwbzarr demo: folder: a non-empty folder that is not a Zarr store"), err
    assert (place / "folder" / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize(
    "argv", [[], ["info"], ["convert", "a.nwb"], ["nope"], ["plot", "a.nwb.zarr", "--max-bytes", "x"]]
)
def test_bad_usage_exits_2(
    argv: list[str], place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = _run(argv, place, capsys, monkeypatch)
    assert code == 2 and "usage: nwbzarr" in err, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from nwbzarr import __version__

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"nwbzarr {__version__}\n"


def test_a_closed_pipe_ends_quietly_with_0(place: Path) -> None:
    """`nwbzarr info X | head`: the reader goes away before the tree is printed."""
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "nwbzarr", "info", str(place / "a.nwb.zarr"), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `head` exiting at once
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0, err
        assert err == ""
        proc.stderr.close()


def test_info_and_verify_count_the_same_objects(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    on_disk = sum(1 for p in (place / "a.nwb.zarr").rglob("*") if p.is_file())
    assert _run(["info", "a.nwb.zarr"], place, capsys, monkeypatch)[0] == 0
    assert _run(["verify", "a.nwb.zarr", "--quiet"], place, capsys, monkeypatch)[0] == 0
    monkeypatch.chdir(place)
    main(["info", "a.nwb.zarr"])
    info_out = capsys.readouterr().out
    main(["verify", "a.nwb.zarr", "--quiet"])
    verify_out = capsys.readouterr().out
    assert f"\n{on_disk} objects, " in info_out, info_out
    assert f"; {on_disk} objects (the manifest and the {on_disk - 1} it lists)" in verify_out, verify_out
