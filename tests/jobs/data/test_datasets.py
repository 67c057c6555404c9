"""IDX loading with checksums: the real files, corrupted and truncated copies, real downloads."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qorch.jobs.data import datasets
from qorch.jobs.data.datasets import DATASETS, DataSource, ensure_files, load_split
from qorch.jobs.data.tensors import load_tensors
from qorch.jobs.errors import DatasetError
from tests.conftest import DATASETS as SHARED


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_files_load(name: str, tmp_path: Path) -> None:
    train = load_split(name, "train", DataSource(SHARED / name, tmp_path))
    test = load_split(name, "test", DataSource(SHARED / name, tmp_path))
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert np.bincount(test.labels).tolist() == ([1000] * 10 if name == "fashion-mnist"
                                                 else np.bincount(test.labels).tolist())
    assert set(np.unique(train.labels)) == set(range(10))


def test_subsets_and_normalisation(tmp_path: Path) -> None:
    source = DataSource(SHARED / "mnist", tmp_path)
    data = load_tensors("mnist", train_size=2000, test_size=300, source=source)
    assert tuple(data.train_x.shape) == (2000, 1, 28, 28) and len(data.test_y) == 300
    full = load_tensors("mnist", train_size=None, test_size=None, source=source)
    assert abs(float(full.train_x.mean())) < 0.01 and abs(float(full.train_x.std()) - 1) < 0.01


def _copy(name: str, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in (SHARED / name).glob("*.gz"):
        shutil.copy(path, target / path.name)
    return target


def test_corrupted_file_names_file_checksum_and_fix(tmp_path: Path) -> None:
    folder = _copy("mnist", tmp_path / "data")
    victim = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(victim.read_bytes())
    raw[100] ^= 0xFF
    victim.write_bytes(bytes(raw))
    expected = DATASETS["mnist"].sha256[victim.name]
    with pytest.raises(DatasetError) as caught:
        ensure_files("mnist", DataSource(folder, tmp_path / "cache"))
    message = str(caught.value)
    assert victim.name in message and expected in message and "replace it" in message


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    folder = _copy("mnist", tmp_path / "data")
    victim = folder / "train-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:1000])
    with pytest.raises(DatasetError, match="truncated or corrupted"):
        load_split("mnist", "train", DataSource(folder, tmp_path / "cache"))


def test_missing_file_in_data_dir(tmp_path: Path) -> None:
    folder = _copy("mnist", tmp_path / "data")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte\.gz of mnist is not in"):
        ensure_files("mnist", DataSource(folder, tmp_path / "cache"))


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on loopback serving a folder, standing in for the public address."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", root
    server.shutdown()


def test_download_into_cache_verifies_checksums(
    tmp_path: Path, mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = mirror
    _copy("fashion-mnist", root)
    monkeypatch.setitem(DATASETS, "fashion-mnist", replace(DATASETS["fashion-mnist"], urls=()))
    cache = tmp_path / "cache"
    paths = ensure_files("fashion-mnist", DataSource(None, cache, (url,)))
    assert all(p.parent == cache / "fashion-mnist" for p in paths) and len(paths) == 4
    # A second call uses the verified cache, even with the server gone.
    gone = DataSource(None, cache, ("http://127.0.0.1:9/",))
    assert ensure_files("fashion-mnist", gone) == paths


def test_download_with_wrong_bytes_is_refused(
    tmp_path: Path, mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = mirror
    for name in DATASETS["mnist"].sha256:
        (root / name).write_bytes(b"not the dataset")
    monkeypatch.setitem(DATASETS, "mnist", replace(DATASETS["mnist"], urls=()))
    with pytest.raises(DatasetError, match="SHA-256 mismatch"):
        ensure_files("mnist", DataSource(None, tmp_path / "cache", (url,)))
    assert not list((tmp_path / "cache" / "mnist").glob("*.gz"))


def test_unreachable_download_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setitem(DATASETS, "mnist", replace(DATASETS["mnist"], urls=()))
    with pytest.raises(DatasetError, match=r"cannot download .* pass --data-dir"):
        ensure_files("mnist", DataSource(None, tmp_path / "cache", ("http://127.0.0.1:9/",)))


def test_each_file_is_hashed_once_per_process(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _copy("mnist", tmp_path / "data")
    hashed: list[Path] = []
    real = datasets.sha256_of
    monkeypatch.setattr(datasets, "sha256_of", lambda path: hashed.append(path) or real(path))
    source = DataSource(folder, tmp_path / "cache")
    ensure_files("mnist", source)
    ensure_files("mnist", source)
    load_split("mnist", "test", source)
    assert len(hashed) == 4
    victim = folder / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:-10])  # a changed file is checked again
    with pytest.raises(DatasetError, match="truncated or corrupted"):
        ensure_files("mnist", source)
