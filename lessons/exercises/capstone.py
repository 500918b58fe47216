"""Capstone (after lesson 09): your own PReLU, convolution and init train nets in tinyrect.
                                                            Check: tinyrect check capstone
Finish the prelu, conv and init exercises first (tinyrect check prelu conv init). Then return
your functions from pieces() below; the grader plugs them into tinyrect's tape with
tinyrect.exercises.use (exactly as tinyrect registers its own ops), checks the plugged ops against
its own values, and trains with them:
  - Table 2 at small scale: a 3-layer conv net on digits with ReLU vs your PReLU;
  - Fig. 3 at small scale: a 30-layer plain net initialized with your he_std vs your xavier_std.
Run this file (python capstone.py) to see your pieces gradchecked and training.
"""


def pieces():
    """Return a dict with your prelu_forward, prelu_backward, conv2d_forward, conv2d_backward, he_std
    and xavier_std, e.g. imported at the top of this file from your prelu.py, conv.py and init.py
    next to it (from prelu import prelu_forward, prelu_backward)."""
    raise NotImplementedError("capstone: return your pieces")


if __name__ == "__main__":
    from tinyrect.exercises import use
    from tinyrect.exercises.plug import fig3, table2
    mine = use(pieces())
    for op, report in mine.gradcheck().items():
        print(f"{op:<24} gradcheck {'pass' if report.passed else 'FAIL'} (max rel error {report.max_rel_error:.1e})")
    relu, prelu = table2(mine, seed=0)
    print(f"Table 2, small: test accuracy ReLU {relu:.3f}, your PReLU {prelu:.3f}")
    he, xavier = fig3(mine, seed=0)
    print(f"Fig. 3, small: 30-layer plain net, your He std {he:.3f}, your Xavier std {xavier:.3f}")
