"""`tinyrect demo`: a half-minute tour of the paper's two ideas, measured on the spot.

1. PReLU (Eq. 1): its hand-derived backward (Eq. 2-3) against finite differences.
2. He init (Eq. 10) vs Xavier in a 30-layer plain ReLU conv net on the digits images: the
   response variance Var[y_l] per layer, with circular padding (the derivation's world), next to
   the paper's prediction: He keeps it flat, Xavier halves it at every layer (Eq. 9).
"""
from __future__ import annotations

import numpy as np


def add_arguments(parser) -> None:
    parser.add_argument("--depth", type=int, default=30, help="number of conv layers (default 30)")
    parser.add_argument("--width", type=int, default=32, help="channels per layer (default 32)")
    parser.add_argument("--draws", type=int, default=8, help="weight draws to average over (default 8)")


def prelu_gradcheck() -> bool:
    import tinyrect as tr

    rng = np.random.default_rng(0)
    x = tr.Tensor(rng.standard_normal((4, 3, 5, 5)), requires_grad=True)
    a = tr.Tensor(np.array([0.25, -0.5, 1.5]), requires_grad=True)  # channel-wise, any sign
    report = tr.gradcheck(tr.functional.prelu, [x, a], names=["x", "a"])
    print(report)
    return report.passed


def response_variances(depth: int, width: int, init_name: str, images: np.ndarray, seed: int) -> list:
    """Var[y_l] of every conv layer's output for one weight draw (forward only, no graph)."""
    import tinyrect as tr
    from tinyrect import init, nn

    rng = np.random.default_rng(seed)
    layers, channels = [], images.shape[1]
    for _ in range(depth):
        conv = nn.Conv2d(channels, width, 3, padding=1, bias=False, padding_mode="circular")
        if init_name == "he":
            init.kaiming_normal_(conv.weight, nonlinearity="relu", rng=rng)  # Var[w] = 2/n (Eq. 10)
        else:
            init.xavier_normal_(conv.weight, rng=rng)  # Var[w] = 2/(n + n̂) = 1/n here
        layers.append(conv)
        channels = width
    variances, h = [], tr.Tensor(images)
    with tr.no_grad():
        for conv in layers:
            y = conv(h)
            variances.append(float(y.data.var()))
            h = tr.functional.relu(y)
    return variances


def run(args) -> int:
    from tinyrect.data import digits

    if args.depth < 2 or args.width < 1 or args.draws < 1:
        print("tinyrect demo: --depth must be >= 2, --width and --draws >= 1")
        return 2
    print("1) PReLU's backward, derived by hand (Eq. 2-3), vs central differences in float64\n")
    ok = prelu_gradcheck()

    print(f"\n2) {args.depth}-layer plain 3×3 ReLU conv net, width {args.width}, circular padding, "
          f"128 digits images, {args.draws} weight draws")
    print("   log2 of Var[y_l]/Var[y_1] averaged over draws (the theory is an expectation over "
          "draws),\n   the spread of single draws (std of log2), and the paper's prediction (Eq. 9)")
    images = digits().x_train[:128]
    table = {}
    for name in ("he", "xavier"):
        ratios = np.array([response_variances(args.depth, args.width, name, images, seed)
                           for seed in range(args.draws)])
        ratios = ratios / ratios[:, :1]
        table[name] = (np.log2(ratios.mean(axis=0)), np.log2(ratios).std(axis=0))
    print(f"   {'layer':>5} {'He':>7} {'spread':>7} {'theory':>7}   {'Xavier':>7} {'spread':>7} {'theory':>7}")
    for layer in sorted({1, 2, 5, 10, 15, 20, 25, args.depth}):
        if layer > args.depth:
            continue
        i = layer - 1
        print(f"   {layer:>5} {table['he'][0][i]:>7.2f} {table['he'][1][i]:>7.2f} {0.0:>7.2f}   "
              f"{table['xavier'][0][i]:>7.2f} {table['xavier'][1][i]:>7.2f} {1.0 - layer:>7.2f}")
    print("\n   He: ½·n·Var[w] = 1 per layer (Eq. 10), so the expected variance stays put; one "
          "network is one draw\n   and wanders (finite width: lesson 05). Xavier: ½·n·Var[w] = ½, "
          f"so it halves every layer, 2^-{args.depth - 1} after {args.depth} layers.")
    print("\nNext: `tinyrect lessons` for the course, `tinyrect reproduce --quick` for the paper's "
          "experiments.")
    return 0 if ok else 1
