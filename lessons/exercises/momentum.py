"""Exercise (lesson 09): SGD with momentum, as the paper trains a.   Check: tinyrect check momentum

The paper updates the PReLU slopes with momentum, Eq. (4):  Δa_i := μ Δa_i + ε ∂E/∂a_i,
and every parameter moves by −Δ. The weights are trained the same way, with weight decay λ
(an L2 term λ/2 ‖w‖² added to E). Sec. 2.1 says what to do about weight decay on a.
"""
import numpy as np  # noqa: F401


def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
    """One step for one parameter array. Return (new_p, new_velocity), both of p's shape.

    p: the parameter; grad: ∂E/∂p without any decay term; velocity: Δ from the previous step;
    lr: ε; momentum: μ; weight_decay: λ; is_slope: True for PReLU slopes a, False for weights.
    Do not modify the arrays you receive.
    """
    raise NotImplementedError("momentum_step")
