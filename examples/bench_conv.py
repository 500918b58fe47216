"""Benchmark tinyrect's conv2d against a pure-NumPy im2col and PyTorch (the same measurement as
`tinyrect bench --only conv`).

    python examples/bench_conv.py [--repeats 10] [--threads 2] [--quick] [--shapes "64,32,32,3,32"]

Prints, for float32 shapes (N, C, H=W, K, F) with padding K//2: median forward and
forward+backward times, the ratios tinyrect/torch and numpy/tinyrect with their geometric means,
and tinyrect's GFLOP/s next to this machine's float32 GEMM rate.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source checkout

from tinyrect.commands import bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    args = parser.parse_args()
    args.only = args.only or ["conv"]
    return bench.run(args)


if __name__ == "__main__":
    sys.exit(main())
