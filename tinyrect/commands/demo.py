"""`tinyrect demo`: a half-minute tour of the paper's two ideas, measured on the spot.

1. PReLU (Eq. 1): its hand-derived backward (Eq. 2-3) against finite differences.
2. He init (Eq. 10) vs Xavier in a 30-layer plain ReLU conv net on the digits images: the
   response variance Var[y_l] per layer, with circular padding (the derivation's world), next to
   the paper's prediction: He keeps it flat, Xavier halves it at every layer (Eq. 9). The
   measurement is tinyrect.variance.measure, the one lessons 05-07 and `reproduce` use.
"""
from __future__ import annotations

import numpy as np


def add_arguments(parser) -> None:
    parser.add_argument("--depth", type=int, default=30, help="number of conv layers (default 30)")
    parser.add_argument("--width", type=int, default=64, help="channels per layer (default 64)")
    parser.add_argument("--draws", type=int, default=64, help="weight draws to average over (default 64)")


def prelu_gradcheck() -> bool:
    import tinyrect as tr

    rng = np.random.default_rng(0)
    x = tr.Tensor(rng.standard_normal((4, 3, 5, 5)), requires_grad=True)
    a = tr.Tensor(np.array([0.25, -0.5, 1.5]), requires_grad=True)  # channel-wise, any sign
    report = tr.gradcheck(tr.functional.prelu, [x, a], names=["x", "a"])
    print(report)
    return report.passed


def run(args) -> int:
    from tinyrect.variance import measure as variance

    if args.depth < 2 or args.width < 1 or args.draws < 1:
        print("tinyrect demo: --depth must be >= 2, --width and --draws >= 1")
        return 2
    print("1) PReLU's backward, derived by hand (Eq. 2-3), vs central differences in float64\n")
    ok = prelu_gradcheck()

    print(f"\n2) {args.depth}-layer plain 3×3 ReLU conv net, width {args.width}, circular padding, "
          f"16 digits images, {args.draws} weight draws per init\n")
    result = variance.measure(schemes=("he_fan_in", "xavier"), widths=(args.width,), draws=args.draws,
                              depth=args.depth, batch=16, padding_mode="circular", backward=False)
    layers = sorted(l for l in {1, 2, 5, 10, 15, 20, 25, args.depth} if l <= args.depth)
    print(variance.layer_table(result, layers=layers))
    print("\n" + variance.summary_table(result))
    print("\n   The theory is an expectation over weight draws, so we compare the log2 of the mean "
          "over draws;\n   one network is one draw and wanders (sd/draw: finite width, lesson 05). "
          "He: ½·n·Var[w] = 1 per layer\n   (Eq. 10), so the variance stays put; Xavier: ½·n·Var[w] "
          f"= ½, so it halves every layer (Eq. 9).")
    print("\nNext: `tinyrect lessons` for the course, `tinyrect reproduce --quick` for the paper's "
          "experiments.")
    return 0 if ok else 1
