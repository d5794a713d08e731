"""The obstore transport: chosen by default for s3:// and https://, s3fs-style options keep their meaning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from zarr.storage import FsspecStore

from nwbzarr.errors import NWBZarrError, StorageError
from nwbzarr.storage import make_store, store_exists
from nwbzarr.storage.resolve import default_transport

obstore = pytest.importorskip("obstore")

from nwbzarr.storage.obstore_store import NWBObjectStore, obstore_options  # noqa: E402 - needs obstore


def test_s3_and_https_default_to_obstore_and_other_urls_to_fsspec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NWBZARR_TRANSPORT", raising=False)
    assert default_transport("s3://lab/a.zarr") == "obstore"
    assert default_transport("https://example.org/a.zarr") == "obstore"
    assert default_transport("http://127.0.0.1:9/a.zarr") == "fsspec"
    assert default_transport("memory://a/b.zarr") == "fsspec"
    assert type(make_store("s3://lab/a.zarr", read_only=True)) is NWBObjectStore
    assert type(make_store("memory://t/a.zarr", read_only=True)) is FsspecStore
    chosen = make_store("s3://lab/a.zarr", read_only=True, storage_options={"transport": "fsspec"})
    assert type(chosen) is FsspecStore
    monkeypatch.setenv("NWBZARR_TRANSPORT", "fsspec")  # a whole process's choice
    assert type(make_store("s3://lab/a.zarr", read_only=True)) is FsspecStore


def test_a_bad_transport_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NWBZarrError, match="transport='boto'"):
        make_store("s3://lab/a.zarr", read_only=True, storage_options={"transport": "boto"})
    monkeypatch.setenv("NWBZARR_TRANSPORT", "rust")
    with pytest.raises(NWBZarrError, match="NWBZARR_TRANSPORT='rust'"):
        make_store("s3://lab/a.zarr", read_only=True)


def test_s3fs_options_map_to_obstore_configuration() -> None:
    kwargs = obstore_options(
        "s3://lab/a.zarr",
        {
            "key": "id",
            "secret": "secret",
            "token": "session",
            "endpoint_url": "http://127.0.0.1:9000",
            "client_kwargs": {"region_name": "eu-west-1"},
            "config_kwargs": {"retries": {"max_attempts": 3}, "connect_timeout": 4, "read_timeout": 30},
            "max_concurrency": 1,  # s3fs's own tuning: accepted, nothing to do with obstore
        },
    )
    config, client, retry = kwargs["config"], kwargs["client_options"], kwargs["retry_config"]
    assert config["access_key_id"] == "id" and config["secret_access_key"] == "secret"
    assert config["session_token"] == "session"
    assert config["endpoint"] == "http://127.0.0.1:9000" and config["region"] == "eu-west-1"
    assert client["allow_http"] is True  # a plain-HTTP endpoint (a local server) is allowed only when named
    assert client["connect_timeout"] == timedelta(seconds=4) and client["read_timeout"] == timedelta(seconds=30)
    assert retry["max_retries"] == 3  # botocore's max_attempts counts retries
    botocore_spelling = {"config_kwargs": {"retries": {"total_max_attempts": 9, "mode": "standard"}}}
    assert obstore_options("s3://lab/a", botocore_spelling)["retry_config"]["max_retries"] == 8
    assert obstore_options("s3://lab/a", {"anon": True})["config"]["skip_signature"] is True
    defaults = obstore_options("s3://lab/a", {})  # nwbzarr's s3fs defaults, on obstore too
    assert defaults["retry_config"]["max_retries"] == 8
    assert defaults["client_options"]["connect_timeout"] == timedelta(seconds=10)


def test_options_obstore_cannot_honour_are_refused_by_name() -> None:
    with pytest.raises(NWBZarrError, match=r"\['default_block_size'\].*transport': 'fsspec'"):
        obstore_options("s3://lab/a.zarr", {"default_block_size": 2**20})
    with pytest.raises(NWBZarrError, match=r"config_kwargs\.signature_version"):
        obstore_options("s3://lab/a.zarr", {"config_kwargs": {"signature_version": "s3v4"}})
    with pytest.raises(NWBZarrError, match="read_timeout=-1"):
        obstore_options("s3://lab/a.zarr", {"config_kwargs": {"read_timeout": -1}})
    with pytest.raises(NWBZarrError, match="retries"):
        obstore_options("s3://lab/a.zarr", {"config_kwargs": {"retries": {"max_attempts": "many"}}})


def test_an_unreachable_endpoint_is_a_storage_error_after_the_retries(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "k",
        "secret": "s",
        "config_kwargs": {"retries": {"max_attempts": 0}, "connect_timeout": 1, "read_timeout": 2},
        "transport": "obstore",
    }
    with pytest.raises(StorageError, match="cannot reach the store"):
        store_exists(make_store("s3://lab/nowhere.zarr", read_only=True, storage_options=options))


def test_https_reads_through_obstore(tmp_path: Path) -> None:
    """A store served over plain HTTP, read with the obstore transport asked for by name."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import zarr

    root = tmp_path / "served.zarr"
    zarr.create_array(str(root), shape=(4, 4), dtype="u2", chunks=(2, 2))[:] = np.arange(16).reshape(4, 4)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served.zarr"
        store = make_store(url, read_only=True, storage_options={"transport": "obstore"})
        assert type(store) is NWBObjectStore
        assert np.array_equal(zarr.open_array(store, mode="r")[:], np.arange(16).reshape(4, 4))
    finally:
        server.shutdown()
        server.server_close()


def test_an_obstore_store_is_located_where_its_url_is() -> None:
    """The convert-into-itself guard compares a resolved store with the URLs the user typed."""
    from nwbzarr.storage.destination import locate

    here = locate(make_store("s3://lab/x/a.nwb.zarr", read_only=True, storage_options={"transport": "obstore"}))
    assert here is not None and here.relation(locate("s3://lab/x/a.nwb.zarr")) == "is"  # type: ignore[arg-type]
    assert here.relation(locate("s3://lab/x")) == "lies inside"  # type: ignore[arg-type]


def test_nwbzarrs_own_options_never_reach_fsspec() -> None:
    from nwbzarr.storage.fingerprint import fingerprint

    options = {"transport": "fsspec", "max_inflight": 8}
    assert fingerprint("memory://fingerprint/none.nwb", storage_options=options)["missing"] is True
