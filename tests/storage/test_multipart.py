"""Shards go to S3 as multipart uploads whose parts a resumed conversion continues (issue 18).

On the S3 test server (both transports), through a proxy that counts the requests: a shard of two
parts or more is one multipart upload that reads back equal and verifies; a conversion killed during
an upload resumes and sends only the parts the server lacks; an upload of the same key holding other
bytes is not reused; no upload is left in progress after the commit; a refused resume aborts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from zarr.core.sync import sync

from nwbzarr import NWBHDF5IO, NWBZarrIO, verify
from nwbzarr.errors import ResumeRefusedError, StorageError
from nwbzarr.model import TimeSeries
from nwbzarr.operations.convert import convert
from nwbzarr.storage import make_store, multipart
from nwbzarr.testing.http_proxy import CountingProxy
from nwbzarr.testing.s3server import S3TestServer
from nwbzarr.testing.tutorial import build_tutorial_file

sys.path.insert(0, str(Path(__file__).parent))
from multipart_writer import FRAMES, SHARD_FRAMES, SIZE, small_shards

_DRIVER = Path(__file__).with_name("multipart_writer.py")
_SHARD = "acquisition/movie/data/c/{}/0/0"
_PART = "partNumber="


@pytest.fixture(scope="module")
def movie() -> np.ndarray:
    """Noise (incompressible): every shard is about 6 MiB stored, two parts."""
    return np.random.default_rng(18).integers(0, 2**16, size=(FRAMES, SIZE, SIZE), dtype=np.uint16)


@pytest.fixture(scope="module")
def source(movie: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    nwbfile = build_tutorial_file(frames=12, size=8, seed=3)
    nwbfile.add_acquisition(TimeSeries(name="movie", data=movie, unit="n", rate=10.0))
    path = tmp_path_factory.mktemp("multipart") / "session.nwb"
    with NWBHDF5IO(path, "w") as io:
        io.write(nwbfile)
    return path


@pytest.fixture
def shrunk() -> Iterator[None]:
    from nwbzarr.writing import policy

    saved = policy.SHARD_BYTES
    small_shards()
    yield
    policy.SHARD_BYTES = saved


def _uploads(server: S3TestServer, url: str) -> list[tuple[str, str]]:
    """The multipart uploads in progress under ``url`` (key, upload id)."""
    prefix = url.removeprefix("s3://lab/") + "/"
    client = server.resource().meta.client
    found = client.list_multipart_uploads(Bucket="lab", Prefix=prefix).get("Uploads") or []
    return [(upload["Key"], upload["UploadId"]) for upload in found]


def _parts_sent(proxy: CountingProxy, key: str) -> int:
    return sum(1 for method, path in proxy.paths if method == "PUT" and key in path and _PART in path)


def _movie(url: str, options: dict[str, Any]) -> np.ndarray:
    with NWBZarrIO(url, "r", storage_options=options) as io:
        return np.asarray(io.read().acquisition["movie"].data[:])


def _run(source: Path, url: str, key: str, at: int, options: dict[str, Any], *flags: str) -> Any:
    argv = [sys.executable, str(_DRIVER), str(source), url, key, str(at), json.dumps(options), *flags]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def test_a_shard_goes_as_one_multipart_upload_and_reads_back_equal(
    source: Path,
    movie: np.ndarray,
    s3_server: S3TestServer,
    s3_url: str,
    counting_proxy: CountingProxy,
    shrunk: None,
) -> None:
    url = s3_url
    report = convert(source, url, dst_storage_options=s3_server.storage_options(counting_proxy.url))
    assert report is not None and report.ok
    shards = FRAMES // SHARD_FRAMES
    creates = [
        path
        for method, path in counting_proxy.paths
        if method == "POST" and "?uploads" in path and "uploadId" not in path
    ]
    assert len(creates) == shards, creates  # one upload a shard, nothing else (metadata: single PUTs)
    assert all(_parts_sent(counting_proxy, _SHARD.format(i)) == 2 for i in range(shards))
    direct = s3_server.storage_options()
    assert verify(url, storage_options=direct).ok
    np.testing.assert_array_equal(_movie(url, direct), movie)
    assert _uploads(s3_server, url) == []


def test_a_conversion_killed_during_an_upload_resumes_with_the_parts_stored(
    source: Path,
    movie: np.ndarray,
    s3_server: S3TestServer,
    s3_url: str,
    counting_proxy: CountingProxy,
    tmp_path: Path,
    shrunk: None,
) -> None:
    url = s3_url
    options = s3_server.storage_options(counting_proxy.url)
    killed = _run(source, url, _SHARD.format(1), 2, options)  # just before the second part of the second shard
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert [key for key, _ in _uploads(s3_server, url)] == [url.removeprefix("s3://lab/") + "/" + _SHARD.format(1)]

    # a resume of a changed source is refused and aborts nothing
    changed = tmp_path / "changed.nwb"
    changed.write_bytes(source.read_bytes())
    before = _uploads(s3_server, url)
    with pytest.raises(ResumeRefusedError):
        convert(changed, url, dst_storage_options=options, resume=True)
    assert _uploads(s3_server, url) == before

    # an upload of the third shard holding other bytes (a different movie, say) must not be reused
    target = multipart.target_of(make_store(url, read_only=False, storage_options=options))
    assert target is not None
    planted = sync(target.create(_SHARD.format(2)))
    other = memoryview(os.urandom(multipart.PART_BYTES))
    sync(target.upload_part(_SHARD.format(2), planted, 1, other, multipart._md5(other)))

    counting_proxy.reset()
    resumed = _run(source, url, "", 0, options, "resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    told = " ".join(json.loads(next(line for line in resumed.stdout.splitlines() if line.startswith("told"))[5:]))
    assert "1 parts of uploads it cut off (5.2 MB" in told, told
    assert _parts_sent(counting_proxy, _SHARD.format(1)) == 1  # its first part was there: only the second is sent
    assert _parts_sent(counting_proxy, _SHARD.format(2)) == 2  # the planted part has other bytes: both sent
    listings = [path for method, path in counting_proxy.paths if method == "GET" and "?uploads" in path]
    assert len(listings) == 2, listings  # once for the resume, once at the commit (to abort what is left)
    assert _uploads(s3_server, url) == []  # the commit aborted what was left (nothing was: both were completed)
    direct = s3_server.storage_options()
    assert verify(url, storage_options=direct).ok
    np.testing.assert_array_equal(_movie(url, direct), movie)


class _StallingPart(CountingProxy):
    """Holds the second part of one shard back for a minute: a link that stalls in the middle of an upload."""

    key = _SHARD.format(1)

    def intercept(self, method: str, path: str) -> tuple[int, bytes] | str | float | None:
        return 60.0 if self.key in path and f"{_PART}2" in path else None


def test_a_resume_continues_the_uploads_obstore_made_itself(
    source: Path, movie: np.ndarray, s3_server: S3TestServer, s3_url: str, counting_proxy: CountingProxy
) -> None:
    """A fresh write over obstore leaves its shards to obstore's own multipart uploads, of the same parts."""
    if os.environ["NWBZARR_TRANSPORT"] != "obstore" or not multipart.NATIVE_PARTS:
        pytest.skip("obstore's own multipart uploads")
    url, prefix = s3_url, s3_url.removeprefix("s3://lab/") + "/"
    client = s3_server.resource().meta.client
    with _StallingPart(s3_server.host, s3_server.port) as stalling:
        argv = [sys.executable, str(_DRIVER), str(source), url, "", "0"]
        writer = subprocess.Popen([*argv, json.dumps(s3_server.storage_options(stalling.url)), "plain"])
        try:
            for _ in range(600):  # until the first part of the second shard is stored, its second held back
                uploads = client.list_multipart_uploads(Bucket="lab", Prefix=prefix).get("Uploads") or []
                parts = [
                    part["PartNumber"]
                    for upload in uploads
                    if upload["Key"] == prefix + _SHARD.format(1)
                    for part in client.list_parts(Bucket="lab", Key=upload["Key"], UploadId=upload["UploadId"]).get(
                        "Parts", []
                    )
                ]
                if parts == [1]:
                    break
                assert writer.poll() is None, "the writer ended before the stalled part"
                time.sleep(0.1)
            else:
                pytest.fail("the first part of the second shard never arrived")
        finally:
            writer.kill()
            writer.wait()
    counting_proxy.reset()
    resumed = _run(source, url, "", 0, s3_server.storage_options(counting_proxy.url), "resume", "plain")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "1 parts of uploads it cut off (5.2 MB" in resumed.stdout, resumed.stdout
    assert _parts_sent(counting_proxy, _SHARD.format(1)) == 1  # obstore's first part kept: the second sent
    assert _uploads(s3_server, url) == []
    np.testing.assert_array_equal(_movie(url, s3_server.storage_options()), movie)


def test_uploads_left_under_the_store_are_aborted_at_the_commit(
    source: Path, s3_server: S3TestServer, s3_url: str, shrunk: None
) -> None:
    url = s3_url
    options = s3_server.storage_options()
    target = multipart.target_of(make_store(url, read_only=False, storage_options=options))
    assert target is not None
    sync(target.create("acquisition/old/c/0"))  # an earlier attempt's, never completed
    sync(target.create(_SHARD.format(0)))
    neighbour = multipart.target_of(make_store(url + "-2", read_only=False, storage_options=options))
    assert neighbour is not None
    sync(neighbour.create("x/c/0"))  # another store's (its prefix starts with this one's name): not touched
    convert(source, url, dst_storage_options=options, overwrite=True, verify=False)
    assert _uploads(s3_server, url) == []
    assert len(_uploads(s3_server, url + "-2")) == 1
    sync(neighbour.abort_all())


def test_parts_are_matched_by_md5_and_size(s3_server: S3TestServer, s3_url: str) -> None:
    url = s3_url
    target = multipart.target_of(make_store(url, read_only=False, storage_options=s3_server.storage_options()))
    assert target is not None
    data = os.urandom(2 * multipart.PART_BYTES + 1000)
    first, second = memoryview(data)[: multipart.PART_BYTES], memoryview(data)[multipart.PART_BYTES :]
    partial = sync(target.create("a/c/0"))
    sync(target.upload_part("a/c/0", partial, 1, first, multipart._md5(first)))
    other = sync(target.create("a/c/0"))  # the same key, its second part of other bytes
    wrong = memoryview(bytes(len(second[: multipart.PART_BYTES])))
    sync(target.upload_part("a/c/0", other, 2, wrong, multipart._md5(wrong)))
    reused = sync(target.put("a/c/0", data, [other, partial]))
    assert reused == multipart.Reused(1, multipart.PART_BYTES)  # the first part of ``partial``; ``other`` kept none
    assert [upload.upload_id for upload in sync(target.list_uploads())] == [other]  # left for the commit
    assert sync(target.abort_all()) == 1 and sync(target.list_uploads()) == []
    store = make_store(url, read_only=True, storage_options=s3_server.storage_options())
    from zarr.core.buffer import default_buffer_prototype

    got = sync(store.get("a/c/0", prototype=default_buffer_prototype()))
    assert got is not None and got.to_bytes() == data


class _FailingParts(CountingProxy):
    """Answers every part upload with a 500: a server that fails for good."""

    def intercept(self, method: str, path: str) -> tuple[int, bytes] | str | float | None:
        return (500, b"<Error><Code>InternalError</Code></Error>") if _PART in path else None


def test_a_part_that_fails_for_good_names_the_key_and_keeps_the_upload(s3_server: S3TestServer, s3_url: str) -> None:
    url = s3_url
    with _FailingParts(s3_server.host, s3_server.port) as proxy:
        options = {**s3_server.storage_options(proxy.url), "config_kwargs": {"retries": {"max_attempts": 1}}}
        target = multipart.target_of(make_store(url, read_only=False, storage_options=options))
        assert target is not None
        with pytest.raises(StorageError, match="a/c/7: a part of its multipart upload failed"):
            sync(target.put("a/c/7", os.urandom(multipart.PART_BYTES + 10)))
    assert [key for key, _ in _uploads(s3_server, url)] == [url.removeprefix("s3://lab/") + "/a/c/7"]  # for --resume
    target = multipart.target_of(make_store(url, read_only=False, storage_options=s3_server.storage_options()))
    assert target is not None
    sync(target.abort_all())


def test_uploads_and_parts_are_listed_page_by_page(
    s3_server: S3TestServer, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = multipart.target_of(make_store(s3_url, read_only=False, storage_options=s3_server.storage_options()))
    assert target is not None
    monkeypatch.setattr(multipart, "_LIST_PAGE", 2)  # moto pages parts (not uploads: it ignores MaxUploads)
    ids = {sync(target.create(f"a/c/{i}")) for i in range(5)}
    assert {upload.upload_id for upload in sync(target.list_uploads())} == ids
    upload = sorted(ids)[0]
    key = next(u.key for u in sync(target.list_uploads()) if u.upload_id == upload)
    for number in range(1, 6):
        part = memoryview(bytes([number]) * 10)
        sync(target.upload_part(key, upload, number, part, multipart._md5(part)))
    assert [part.number for part in sync(target.list_parts(key, upload))] == [1, 2, 3, 4, 5]
    assert sync(target.abort_all()) == 5


def test_local_and_memory_stores_take_no_multipart(tmp_path: Path) -> None:
    assert multipart.target_of(make_store(tmp_path / "x.zarr", read_only=False)) is None
    assert multipart.target_of(make_store("memory://multipart/x.zarr", read_only=False)) is None


def test_an_obstore_store_remembers_its_url_and_options_for_its_s3fs_twin() -> None:
    import pickle

    pytest.importorskip("obstore")
    from nwbzarr.storage.obstore_store import NWBObjectStore

    options = {"endpoint_url": "http://127.0.0.1:9", "key": "k", "secret": "s"}
    store = make_store(
        "s3://lab/twin-test.nwb.zarr", read_only=False, storage_options={**options, "transport": "obstore"}
    )
    assert isinstance(store, NWBObjectStore)
    assert multipart.target_of(store, build=False) is None  # not made yet: a write without multipart never makes it
    for copy in (pickle.loads(pickle.dumps(store)), store.with_read_only(True)):
        assert (copy.url, copy.options) == ("s3://lab/twin-test.nwb.zarr", options)
    target = multipart.target_of(store)
    assert target is not None and target.root == "lab/twin-test.nwb.zarr"
    assert multipart.target_of(store, build=False) == target  # made once per process
