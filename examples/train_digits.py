"""Train a small CNN on the 8×8 digits (offline, 1,437 train / 360 test) to > 95% test accuracy,
and plot its training curves.

    python examples/train_digits.py [--epochs 10] [--prelu] [--out examples_output/]

The net: conv 3×3 (16) → PReLU/ReLU → conv 3×3 (16) → rectifier → max-pool 2 → conv 3×3 (32)
→ rectifier → max-pool 2 → flatten → fc 64 → rectifier → fc 10. He initialization (the layers'
default, Eq. 10; Eq. 15 with a = 0.25 for PReLU), SGD lr 0.05, momentum 0.9, weight decay 5e-4 on
the weights only (not on biases or PReLU slopes), batch 64, learning rate divided by 10 for the
last quarter of the epochs. Writes digits_curves.png and prints the final test accuracy.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source checkout

import numpy as np  # noqa: E402

import tinyrect as tr  # noqa: E402
from tinyrect import init, nn, optim  # noqa: E402
from tinyrect.data import digits  # noqa: E402
from tinyrect.train import train  # noqa: E402


def small_cnn(prelu: bool, channels: int = 1, size: int = 8, classes: int = 10, seed: int = 0):
    """The example's CNN for `size`×`size` inputs with `channels` channels."""
    rng = np.random.default_rng(seed)

    def act(c):
        return nn.PReLU(c, init=0.25) if prelu else nn.ReLU()

    layers = [nn.Conv2d(channels, 16, 3, padding=1), act(16), nn.Conv2d(16, 16, 3, padding=1), act(16),
              nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), act(32), nn.MaxPool2d(2), nn.Flatten(),
              nn.Linear(32 * (size // 4) ** 2, 64), act(64), nn.Linear(64, classes)]
    a = 0.25 if prelu else 0.0
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):       # He init, Eq. (10) / Eq. (15)
            init.kaiming_normal_(layer.weight, a=a, mode="fan_in", nonlinearity="leaky_relu", rng=rng)
    return nn.Sequential(*layers)


def fit_and_plot(model, data, epochs, lr, out: Path, name: str, seed: int = 0):
    """Train with SGD (+ a step schedule), save `name` (loss and accuracy curves); return history."""
    opt = optim.SGD(optim.param_groups_no_decay(model, 5e-4), lr=lr, momentum=0.9)
    milestone = max(1, (3 * epochs) // 4)
    schedule = optim.StepLR(opt, step_size=milestone, gamma=0.1)
    t0 = time.perf_counter()
    history = train(model, data, epochs=epochs, optimizer=opt, lr_schedule=schedule, batch_size=64,
                    seed=seed, on_nonfinite="stop")
    seconds = time.perf_counter() - t0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
    a1.plot(np.arange(1, len(history.step_loss) + 1), history.step_loss, lw=0.7, label="step loss")
    steps_per_epoch = max(1, len(history.step_loss) // max(1, len(history.epoch)))
    a1.plot(np.array(history.epoch) * steps_per_epoch, history.test_loss, "o-", label="test loss (per epoch)")
    a1.set(xlabel="step", ylabel="cross-entropy", yscale="log", title="loss")
    a1.legend()
    a2.plot(history.epoch, history.train_acc, "o-", label="train (running)")
    a2.plot(history.epoch, history.test_acc, "s-", label="test")
    a2.set(xlabel="epoch", ylabel="accuracy", title=f"final test accuracy {history.test_acc[-1]:.3f}")
    a2.legend()
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / name, dpi=100)
    plt.close(fig)
    return history, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--prelu", action="store_true", help="channel-wise PReLU instead of ReLU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="numba/BLAS threads (default 1)")
    parser.add_argument("--out", default="examples_output", help="folder for digits_curves.png")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")
    tr.set_num_threads(args.threads)
    data = digits()
    model = small_cnn(args.prelu, seed=args.seed)
    print(data)
    print(model)
    history, seconds = fit_and_plot(model, data, args.epochs, args.lr, Path(args.out), "digits_curves.png",
                                    seed=args.seed)
    acc = history.test_acc[-1] if history.test_acc else float("nan")
    print(f"\n{history.steps} steps in {seconds:.1f} s; final test accuracy {acc:.4f} "
          f"({'>' if acc > 0.95 else 'NOT >'} 95%); curves: {Path(args.out) / 'digits_curves.png'}")
    return 0 if acc > 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
