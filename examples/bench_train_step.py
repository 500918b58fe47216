"""Benchmark one training step of the 30-layer plain ReLU net (width 16, batch 64 of 8×8 images,
the Fig. 3 net of `tinyrect reproduce`) and of the 14-layer channel-wise PReLU net (width 32,
16×16 images), tinyrect vs the same nets in PyTorch.

    python examples/bench_train_step.py [--repeats 10] [--threads 2]

Prints the median time per step of each, their ratio (tinyrect / PyTorch) and the peak memory of
a step. The same measurement runs inside `tinyrect bench --only train-step`.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source checkout

from tinyrect.commands.bench_train import bench_train_step, format_result  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed steps (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    result = bench_train_step(repeats=args.repeats, threads=args.threads)
    print(json.dumps(result, indent=1) if args.json else format_result(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
