"""Mini-batch iteration (`DataLoader`) and the CLI's data-set spec parser (`load_dataset`)."""
from __future__ import annotations

import numpy as np

from tinyrect.data.base import check_arrays


class DataLoader:
    """Iterate over (x_batch, y_batch) NumPy arrays in mini-batches.

    shuffle=True draws a new order every epoch (every `iter()`), from a generator seeded with
    (seed, epoch): the k-th epoch's order is the same on every run and differs between epochs.
    `set_epoch(k)` jumps to epoch k (e.g. when resuming). drop_last drops a final partial batch.

        loader = DataLoader(ds.x_train, ds.y_train, batch_size=64, seed=0)
        for xb, yb in loader: ...
    """

    def __init__(self, x, y, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        x = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x  # accept a Tensor too
        self.x, self.y = check_arrays(x, y, "DataLoader")
        if len(self.y) == 0:
            raise ValueError("DataLoader: got an empty data set (0 examples)")
        if drop_last and len(self.y) < batch_size:
            raise ValueError(f"DataLoader: drop_last=True with {len(self.y)} examples and batch_size "
                             f"{batch_size} leaves no batch at all; lower batch_size")
        self.batch_size, self.shuffle, self.seed, self.drop_last = int(batch_size), shuffle, seed, drop_last
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.y), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    @property
    def num_examples(self) -> int:
        return len(self.y)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def order(self, epoch: int) -> np.ndarray:
        """The example order used in `epoch` (identity when shuffle=False)."""
        if not self.shuffle:
            return np.arange(len(self.y))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.y))

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield self.x[idx], self.y[idx]

    def __repr__(self):
        return (f"DataLoader({len(self.y)} examples, batch_size={self.batch_size}, {len(self)} batches, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def load_dataset(spec: str, **overrides):
    """Build a Dataset from a CLI spec string.

    digits | digits:seed=1,test_fraction=0.25
    shapes | shapes:n=4000,size=16,classes=6,seed=0
    mnist:PATH | fashion_mnist:PATH | cifar10:PATH   (a folder; everything after the first ':')
    Keyword `overrides` are passed to the loader (e.g. normalize=False).
    """
    from tinyrect.data.cifar import cifar10
    from tinyrect.data.digits import digits
    from tinyrect.data.idx import fashion_mnist, mnist
    from tinyrect.data.shapes import shapes

    builtin = {"digits": digits, "shapes": shapes}
    from_files = {"mnist": mnist, "fashion_mnist": fashion_mnist, "cifar10": cifar10}
    valid = "digits, shapes, mnist:PATH, fashion_mnist:PATH, cifar10:PATH"
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty data set spec; choose one of: {valid}")
    name, _, rest = spec.strip().partition(":")
    key = name.lower().replace("-", "_")
    key = {"fashion": "fashion_mnist", "fashionmnist": "fashion_mnist", "cifar": "cifar10",
           "cifar_10": "cifar10"}.get(key, key)
    if key in builtin:
        kwargs = {}
        for item in filter(None, rest.split(",")):
            k, eq, v = item.partition("=")
            if not eq:
                raise ValueError(f"data set spec {spec!r}: options are key=value pairs separated by "
                                 f"commas, e.g. 'shapes:n=4000,size=16'; got {item!r}")
            kwargs[k.strip()] = _parse_value(v.strip())
        kwargs.update(overrides)
        try:
            return builtin[key](**kwargs)
        except TypeError as err:
            raise ValueError(f"data set spec {spec!r}: {err}") from None
    if key in from_files:
        if not rest:
            raise ValueError(f"data set spec {spec!r} needs a folder: {key}:PATH, e.g. {key}:~/data/{key}")
        return from_files[key](rest, **overrides)
    raise ValueError(f"unknown data set {name!r}; choose one of: {valid}")
