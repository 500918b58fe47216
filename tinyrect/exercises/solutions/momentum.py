"""Reference solution: SGD with momentum, the paper's Eq. (4), with no weight decay on the slopes a."""


def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
    """Eq. (4): Δ := μ Δ + ε ∂E/∂p, then p := p − Δ. Weight decay adds λ p to ∂E/∂p (an L2 term in
    E), except for PReLU slopes (is_slope): decay would push a toward 0, i.e. toward ReLU (Sec. 2.1).
    Returns (new p, new velocity Δ); the inputs are not modified."""
    g = grad if is_slope else grad + weight_decay * p
    velocity = momentum * velocity + lr * g
    return p - velocity, velocity
