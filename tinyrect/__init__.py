"""tinyrect: a from-scratch NumPy + numba deep-learning framework for teaching
He, Zhang, Ren, Sun, "Delving Deep into Rectifiers" (ICCV 2015): PReLU and He initialization.

    import tinyrect as tr
    x = tr.Tensor(np.random.randn(4, 3), requires_grad=True)
    y = tr.functional.prelu(x, tr.Tensor([0.25], requires_grad=True)).sum()
    y.backward()
"""
__version__ = "0.1.0"

from tinyrect._threads import set_num_threads, get_num_threads  # noqa: F401  (before numba kernels)
from tinyrect.tensor import (  # noqa: F401
    AnomalyError, Tensor, as_tensor, detect_anomaly, is_grad_enabled, no_grad, tensor,
)
from tinyrect.gradcheck import GradcheckError, GradcheckReport, gradcheck  # noqa: F401
from tinyrect.random import manual_seed  # noqa: F401
from tinyrect import functional  # noqa: F401
from tinyrect import data, init, nn, optim  # noqa: F401
from tinyrect.serialization import load, save  # noqa: F401

from tinyrect import _moved

_moved.install()  # old module paths (tinyrect.theory, tinyrect.experiments, ...) keep working
