"""Sec. 2.2 of the paper in one place: how the variance of the responses (forward) and of the
gradients (backward) changes from layer to layer, predicted and measured.

    paper     the paper's formulas as functions of numbers: Eq. (7)-(10) forward, (11)-(14)
              backward, (15) for PReLU, and the products over layers (Eq. 9 and 13)
    specs     a model read as one LayerSpec per weight layer, and `predict(model)`
    padding   our zero-padding-aware prediction (what Eq. 7 leaves out at the map borders)
    probes    per-layer measurements of one forward + backward pass (`record(model, x)`)
    measure   the many-draw measurement with bootstrap intervals, the figures and tables that
              lessons 05-07, `tinyrect demo` and `tinyrect reproduce` share

    from tinyrect import variance
    variance.predict(net).forward_log2          # the paper's Eq. (9), layer by layer
    variance.padded_predict(net, input_size=(8, 8))
    variance.record(net, x)                      # measured, layer by layer
"""
from tinyrect.variance.paper import (  # noqa: F401
    backward_factor, backward_product, c2_over_dL, dL_over_c2, forward_factor, forward_product,
    gaussian_log2_product, he_std, init_variance, log2_backward_product, log2_forward_product,
    rectifier_gain, xavier_relu_product,
)
from tinyrect.variance.specs import (  # noqa: F401
    NOT_A_RECTIFIER, LayerSpec, Prediction, flatten_layers, layer_specs, plain_net_specs, predict,
    predict_specs, rectifier_slope, weight_kind,
)
from tinyrect.variance.padding import (  # noqa: F401
    padded_backward_maps, padded_backward_prediction, padded_forward_maps, padded_forward_prediction,
    padded_predict, tap_matrix,
)
from tinyrect.variance.probes import LayerRecord, Probe, ProbeResult, UpdateTracker, record  # noqa: F401
from tinyrect.variance import measure  # noqa: F401
