"""Train the example CNN on a data set you downloaded: MNIST, Fashion-MNIST or CIFAR-10.

    python examples/train_folder.py --dataset mnist:~/data/mnist [--epochs 2] [--subset 10000]
    python examples/train_folder.py --dataset fashion_mnist:~/data/fashion
    python examples/train_folder.py --dataset cifar10:~/data/cifar-10-batches-py

The folder holds the original files: for MNIST / Fashion-MNIST the four IDX files
(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],
t10k-labels-idx1-ubyte[.gz]); for CIFAR-10 the python pickle batches (data_batch_1..5,
test_batch). tinyrect downloads nothing: when a file is missing the error says which one, where
it looked and where to get it. The net is examples/train_digits.py's, sized for the input.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tinyrect as tr  # noqa: E402
from tinyrect.data import load_dataset  # noqa: E402
from train_digits import fit_and_plot, small_cnn  # noqa: E402

FORMATS = ("mnist", "fashion_mnist", "cifar10")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, metavar="NAME:PATH",
                        help="mnist:PATH, fashion_mnist:PATH or cifar10:PATH (a folder)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--subset", type=int, default=None, metavar="N",
                        help="train on N random training images (default: all)")
    parser.add_argument("--prelu", action="store_true", help="channel-wise PReLU instead of ReLU")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="examples_output")
    args = parser.parse_args(argv)
    name, sep, path = args.dataset.partition(":")
    if name not in FORMATS or not sep or not path:
        parser.error(f"--dataset must be one of {', '.join(f + ':PATH' for f in FORMATS)}; got {args.dataset!r}")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        print(f"train_folder: the folder {folder} does not exist. Download {name} there first "
              f"(see this script's docstring for the expected files), then rerun with "
              f"--dataset {name}:{folder}", file=sys.stderr)
        return 2
    try:
        data = load_dataset(args.dataset)
    except (FileNotFoundError, ValueError) as err:
        print(f"train_folder: {err}", file=sys.stderr)
        return 2
    if args.subset:
        data = data.subset(n_train=args.subset, seed=0)
    tr.set_num_threads(args.threads)
    c, h, w = data.input_shape
    model = small_cnn(args.prelu, channels=c, size=h, classes=data.num_classes)
    print(data)
    history, seconds = fit_and_plot(model, data, args.epochs, args.lr, Path(args.out), f"{name}_curves.png")
    print(f"\n{history.steps} steps in {seconds:.1f} s; final test accuracy {history.test_acc[-1]:.4f}; "
          f"curves: {Path(args.out) / (name + '_curves.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
