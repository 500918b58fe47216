"""MNIST and Fashion-MNIST from their IDX files (gzipped or not) in a folder you name.

The IDX format: 4 magic bytes 0x00 0x00 T D (T = element type, D = number of dimensions), then D
big-endian uint32 sizes, then the elements, big-endian, row-major. A file whose length does not
match its header is rejected whole (never half-read).
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from tinyrect.data.base import DataFileError, Dataset, as_folder, missing_file_error, standardize

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {  # role -> standard file stem (the files are distributed gzipped: stem + ".gz")
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SOURCES = {
    "mnist": ("MNIST", "MNIST", tuple(str(i) for i in range(10)),
              "Get the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
              "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from "
              "https://yann.lecun.com/exdb/mnist/ or the mirror "
              "https://ossci-datasets.s3.amazonaws.com/mnist/ and put them in that folder "
              "(gzipped or not)."),
    "fashion_mnist": ("Fashion-MNIST", "FashionMNIST",
                      ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                      "Get the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                      "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from "
                      "https://github.com/zalandoresearch/fashion-mnist (direct: "
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/) and put them "
                      "in that folder (gzipped or not)."),
}


def read_file_bytes(path: Path) -> bytes:
    """The whole content of `path`, gunzipped if it is gzip (by its magic bytes 1f 8b)."""
    raw = Path(path).read_bytes()
    if raw[:2] != b"\x1f\x8b":
        if str(path).endswith(".gz"):
            raise DataFileError(f"{path}: named .gz but is not gzip data; download it again")
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DataFileError(
            f"{path}: corrupt or truncated gzip file ({err}); delete it and download it again"
        ) from None


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a native-endian array of the shape in its header."""
    path = Path(path)
    raw = read_file_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        magic = raw[:4].hex() if len(raw) >= 4 else f"only {len(raw)} bytes"
        raise DataFileError(
            f"{path}: not an IDX file (magic number {magic}; expected 0000TTDD with type TT in "
            f"{sorted(hex(t) for t in IDX_TYPES)} and DD >= 1 dimensions); is it the right file?"
        )
    dtype, ndim = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header}); download it again")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataFileError(
            f"{path}: the header says shape {dims} ({expected} bytes) but the data holds "
            f"{len(raw)} bytes: the file is {'truncated' if len(raw) < expected else 'too long'} "
            "or corrupt; download it again"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file (gzipped when `compress` or when `path` ends with .gz).
    Handy for making small test files in the real format."""
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type; use one of {list(codes)}")
    data = bytes([0, 0, codes[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.astype(native.newbyteorder(">")).tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def find_file(folder: Path, stem: str, subfolder: str, what: str, get_it: str) -> Path:
    """Look for `stem` or `stem.gz` (also the 'train-images.idx3-ubyte' spelling) in the folder, its
    raw/ and <subfolder>/raw/ (torchvision's layout)."""
    if not folder.is_dir():
        raise missing_file_error(f"{what} folder", [str(folder) + "  (does not exist or is not a folder)"], get_it)
    dirs = [folder, folder / "raw", folder / subfolder / "raw"]
    names = [stem, stem + ".gz"]
    dotted = stem.replace("-idx", ".idx", 1)
    names += [dotted, dotted + ".gz"]
    for d in dirs:
        for name in names:
            if (d / name).is_file():
                return d / name
    looked = [f"{d}/{stem}[.gz]" for d in dirs]
    raise missing_file_error(f"{what} file {stem}[.gz]", looked, get_it)


def load_idx_dataset(path, source: str, normalize: bool = True) -> Dataset:
    """MNIST-style data set from the four IDX files in folder `path`: N×1×28×28 float32."""
    what, subfolder, classes, get_it = SOURCES[source]
    folder = as_folder(path)
    files = {role: find_file(folder, stem, subfolder, what, get_it) for role, stem in FILES.items()}
    arrays = {role: read_idx(f) for role, f in files.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3:
            raise DataFileError(f"{files[part + '_images']}: expected images N×H×W, got shape {images.shape}; "
                                "is this a labels file?")
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataFileError(
                f"{files[part + '_labels']}: expected {len(images)} labels (one per image in "
                f"{files[part + '_images'].name}), got shape {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise DataFileError(f"{files[part + '_labels']}: labels must lie in 0..{len(classes) - 1}, "
                                f"got {labels.min()}..{labels.max()}")
    x_train = arrays["train_images"].astype(np.float32)[:, None]
    x_test = arrays["test_images"].astype(np.float32)[:, None]
    info = dict(source=source, files={k: str(v) for k, v in files.items()})
    if normalize:
        x_train, x_test, info["standardize"] = standardize(x_train, x_test, inplace=True)
    return Dataset(x_train, arrays["train_labels"].astype(np.int64), x_test,
                   arrays["test_labels"].astype(np.int64), classes, source, info)


def mnist(path, normalize: bool = True) -> Dataset:
    """MNIST from folder `path` (60,000 train / 10,000 test, 1×28×28). normalize=True standardizes
    with the train mean/std; normalize=False keeps raw pixel values 0..255 as float32."""
    return load_idx_dataset(path, "mnist", normalize)


def fashion_mnist(path, normalize: bool = True) -> Dataset:
    """Fashion-MNIST from folder `path` (same format and sizes as MNIST, 10 clothing classes)."""
    return load_idx_dataset(path, "fashion_mnist", normalize)
