"""Differentiable operations, each a forward and a hand-derived backward with its formula.

One file per family, so "where is PReLU's backward?" is one hop:
  rectifiers.py  relu, leaky_relu, prelu                  (the paper's Eq. 1-3)
  conv.py        conv2d, pad; conv2d_relu, conv2d_prelu  (im2col + GEMM, fused rectifiers;
                                                          geometry.py: its argument checks)
  linear.py      linear, flatten                          (the fc layers)
  pooling.py     max_pool2d, avg_pool2d, adaptive_avg_pool2d
  loss.py        log_softmax, cross_entropy, mse_loss
  dropout.py     dropout                                  (the paper's fc1/fc2, Sec. 3)
The numba fast paths they call live in tinyrect/kernels/, each beside a plain-loop reference.
"""
from tinyrect.functional.loss import cross_entropy, log_softmax, mse_loss  # noqa: F401
from tinyrect.functional.rectifiers import relu, leaky_relu, prelu  # noqa: F401
from tinyrect.functional.conv import conv2d, conv2d_prelu, conv2d_relu, pad  # noqa: F401
from tinyrect.functional.linear import linear, flatten  # noqa: F401
from tinyrect.functional.dropout import dropout  # noqa: F401
from tinyrect.functional.pooling import (  # noqa: F401
    max_pool2d, avg_pool2d, adaptive_avg_pool2d, global_avg_pool2d,
)
