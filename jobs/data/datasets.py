"""MNIST and Fashion-MNIST from their original IDX files, SHA-256 verified, downloaded if absent."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qorch.jobs.errors import DatasetError

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    urls: tuple[str, ...]
    sha256: dict[str, str]
    mean: float
    std: float
    classes: tuple[str, ...]


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        mean=0.1307,
        std=0.3081,
        classes=tuple(str(d) for d in range(10)),
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        mean=0.2860,
        std=0.3530,
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
    ),
}

SPLIT_SIZES = {"train": 60_000, "test": 10_000}
DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class DataSource:
    """Where dataset files are looked for: a data folder, then the cache, else downloaded
    (from `mirrors` first, then the public addresses)."""

    data_dir: Path | None
    cache_dir: Path
    mirrors: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Split:
    """Raw images (uint8, N×28×28) and labels (int64, N) of one split."""

    images: np.ndarray
    labels: np.ndarray


def dataset_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DatasetError(
            f"unknown dataset {name!r}; accepted: {', '.join(DATASETS)}"
        ) from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(info: DatasetInfo, filename: str, source: DataSource) -> Path:
    """Find a verified copy: the data folder, then the cache, else download into the cache."""
    expected = info.sha256[filename]
    data_dir = source.data_dir
    if data_dir is not None:
        candidate = _in_folder(data_dir, info.name, filename)
        if candidate is None:
            raise DatasetError(
                f"{filename} of {info.name} is not in the data folder {str(data_dir)!r} "
                f"(looked in it and in {str(data_dir / info.name)!r}); put the file there or "
                "leave out --data-dir / QORCH_DATA_DIR to download it"
            )
        _verify(candidate, expected, fix="replace it with the original file")
        return candidate
    cached = source.cache_dir / info.name / filename
    if cached.exists():
        _verify(cached, expected, fix="delete it and qorch will download it again")
        return cached
    return _download(info, filename, cached, source.mirrors)


def _in_folder(folder: Path, name: str, filename: str) -> Path | None:
    for candidate in (folder / filename, folder / name / filename):
        if candidate.is_file():
            return candidate
    return None


# Files verified in this process, by (path, size, modification time): each file is hashed once.
_verified: set[tuple[str, int, int]] = set()
_verified_lock = threading.Lock()


def _verify(path: Path, expected: str, fix: str) -> None:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            return
    actual = sha256_of(path)
    if actual == expected:
        with _verified_lock:
            _verified.add(key)
    else:
        raise DatasetError(
            f"{path} is truncated or corrupted: SHA-256 {actual[:16]}…, expected {expected}; "
            f"{fix}"
        )


def _download(info: DatasetInfo, filename: str, target: Path, mirrors: tuple[str, ...]) -> Path:
    errors = []
    target.parent.mkdir(parents=True, exist_ok=True)
    for base in (*mirrors, *info.urls):
        url = base.rstrip("/") + "/" + filename
        try:
            with (
                tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
                urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            ):
                shutil.copyfileobj(response, tmp)
            actual = sha256_of(Path(tmp.name))
            if actual != info.sha256[filename]:
                errors.append(f"{_host(url)}: SHA-256 mismatch")
                os.unlink(tmp.name)
                continue
            os.replace(tmp.name, target)
            return target
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = re.sub(r"^\[Errno [-\d]+\] ", "", str(getattr(err, "reason", err)))
            errors.append(f"{_host(url)}: {reason}")
            if os.path.exists(tmp.name):
                os.unlink(tmp.name)
    # One short line: the first failure says why (no network, usually); the fix names the
    # setting that points qorch at files already on this machine.
    raise DatasetError(
        f"cannot download {filename} of {info.name} ({errors[0]}"
        f"{f', and {len(errors) - 1} more' if len(errors) > 1 else ''}); "
        f"set QORCH_DATA_DIR to the folder holding the {info.name} files, or pass --data-dir"
    )


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def read_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Decode a gzipped IDX file (2051 images or 2049 labels) and check its header."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DatasetError(f"{path} is not a readable gzip file: {err}") from err
    header = np.frombuffer(raw[:4], dtype=">i4")[0] if len(raw) >= 4 else -1
    dims = 3 if magic == 2051 else 1
    shape = tuple(int(v) for v in np.frombuffer(raw[4 : 4 + 4 * dims], dtype=">i4"))
    if header != magic or shape[0] != count:
        raise DatasetError(f"{path} has an unexpected IDX header ({header}, {shape})")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(name: str, split: str, source: DataSource, *, labels_only: bool = False) -> Split:
    info = dataset_info(name)
    image_file, label_file = SPLIT_FILES[split]
    count = SPLIT_SIZES[split]
    labels = read_idx(locate(info, label_file, source), 2049, count)
    if labels_only:
        return Split(images=np.empty((0, 28, 28), dtype=np.uint8), labels=labels.astype(np.int64))
    images = read_idx(locate(info, image_file, source), 2051, count)
    return Split(images=images, labels=labels.astype(np.int64))


def normalise(info: DatasetInfo, images: np.ndarray) -> np.ndarray:
    """uint8 N×28×28 → float32 N×1×28×28, standardised with the training set's mean and std."""
    scaled = images.astype(np.float32) / 255.0
    return ((scaled - info.mean) / info.std)[:, None, :, :]


def ensure_files(name: str, source: DataSource) -> list[Path]:
    """Locate (or download) and verify every file of a dataset before a job is accepted."""
    info = dataset_info(name)
    return [
        locate(info, filename, source)
        for split in SPLIT_FILES.values()
        for filename in split
    ]
