"""``nwbzarr demo``: a realistic calcium-imaging session written to a local store and read back lazily."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from zarr.storage import LocalStore

from nwbzarr.core.progress import terminal_progress
from nwbzarr.io import NWBZarrIO
from nwbzarr.model import DfOverF
from nwbzarr.operations.summary import format_bytes, tree_lines
from nwbzarr.storage.destination import check_destination
from nwbzarr.testing.counting import CountingStore

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo", help="write a synthetic two-photon session to a local store and read it back lazily"
    )
    parser.add_argument("-o", "--output", default="demo.nwb.zarr", help="store to write (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=600, help="movie frames (default: %(default)s)")
    parser.add_argument("--size", type=int, default=256, help="frame height and width in pixels (default: %(default)s)")
    parser.add_argument("--cells", type=int, default=200, help="active cells (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nwbzarr.testing.session import make_session
    from nwbzarr.testing.synthetic import SyntheticSession

    params = SyntheticSession(
        n_frames=args.frames, height=args.size, width=args.size, n_cells=args.cells, seed=args.seed
    )
    # an earlier demo store is replaced; anything else (a folder of notes, a file) is refused, not wiped
    check_destination(args.output, format="zarr", overwrite=True, named=True)
    print(f"building a session: {args.frames} frames of {args.size} x {args.size} px, {args.cells} cells ...")
    nwbfile = make_session(params)
    out = Path(args.output)
    start = time.perf_counter()
    progress = terminal_progress("writing", quiet=args.quiet)
    with NWBZarrIO(out, "w", progress=progress) as io:
        io.write(nwbfile)
    progress.close()
    elapsed = time.perf_counter() - start
    raw = int(np.asarray(nwbfile.acquisition["TwoPhotonSeries"].data).nbytes)
    files = [p for p in out.rglob("*") if p.is_file()]
    stored = sum(p.stat().st_size for p in files)
    print(
        f"wrote {out} in {elapsed:.1f} s: {len(files)} objects, {format_bytes(stored)} on disk "
        f"(movie {format_bytes(raw)} raw, {raw / max(1, stored):.1f}x smaller)"
    )

    store = CountingStore(LocalStore(out, read_only=True))
    with NWBZarrIO(store, "r") as io:
        tree = io.read_tree()
        session = io.read()
        print(f"\nreopened lazily: {sum(store.gets.values())} read(s), no listing\n")
        for line in tree_lines(tree):
            print(line)
        store.reset()
        series = session.acquisition["TwoPhotonSeries"]
        frame = series.data[args.frames // 2]
        print(
            f"\nframe {args.frames // 2}: shape {frame.shape}, mean {frame.mean():.1f} photons, "
            f"max {frame.max()} ({store.chunk_gets} chunk read(s))"
        )
        store.reset()
        dff_container = session.processing["ophys"]["DfOverF"]
        assert isinstance(dff_container, DfOverF)
        dff = dff_container["RoiResponseSeries"]
        trace = dff.data[:, 0]
        print(
            f"dF/F of ROI 0: {np.array2string(trace[:8], precision=3)} ... peak {trace.max():.2f} "
            f"({store.chunk_gets} chunk read(s))"
        )
    return 0
