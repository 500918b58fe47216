"""Every layer checks its arguments when it is built, naming the argument and the allowed range."""
import numpy as np
import pytest

from tinyrect import nn

BAD = [  # (build, message)
    (lambda: nn.Conv2d(3, 4, 3, stride=0), r"Conv2d: stride must be >= 1, got"),
    (lambda: nn.Conv2d(3, 4, 3, stride=(1, -2)), r"stride must be >= 1"),
    (lambda: nn.Conv2d(3, 4, 0), r"kernel_size must be >= 1"),
    (lambda: nn.Conv2d(3, 4, 2.5), r"kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: nn.Conv2d(3, 4, (3, "3")), r"kernel_size must be an int or a pair"),
    (lambda: nn.Conv2d(3, 4, 3, dilation=0), r"dilation must be >= 1"),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), r"padding must be >= 0"),
    (lambda: nn.Conv2d(3, 4, 3, padding=1.0), r"padding must be an int or a pair"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), r"padding must be an int, a pair, 'valid' or 'same'"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), r"'same' needs stride 1"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), r"padding_mode must be 'zeros' or"),
    (lambda: nn.Conv2d(0, 4, 3), r"in_channels must be a positive integer \(>= 1\), got 0"),
    (lambda: nn.Conv2d(3, 0, 3), r"out_channels must be a positive integer"),
    (lambda: nn.Conv2d(3.0, 4, 3), r"in_channels must be a positive integer"),
    (lambda: nn.Conv2d(True, 4, 3), r"in_channels must be a positive integer"),
    (lambda: nn.MaxPool2d(0), r"MaxPool2d: kernel_size must be >= 1"),
    (lambda: nn.MaxPool2d(2, stride=0), r"MaxPool2d: stride must be >= 1"),
    (lambda: nn.MaxPool2d(2, stride=-1), r"MaxPool2d: stride must be >= 1"),
    (lambda: nn.MaxPool2d(2, padding=2), r"MaxPool2d: padding must be at most half"),
    (lambda: nn.MaxPool2d(2, padding=-1), r"MaxPool2d: padding must be >= 0"),
    (lambda: nn.AvgPool2d(-3), r"AvgPool2d: kernel_size must be >= 1"),
    (lambda: nn.AvgPool2d(2, stride=0), r"AvgPool2d: stride must be >= 1"),
    (lambda: nn.AvgPool2d(2.0), r"AvgPool2d: kernel_size must be an int"),
    (lambda: nn.AdaptiveAvgPool2d(0), r"output_size must be >= 1"),
    (lambda: nn.Linear(0, 3), r"Linear: in_features must be a positive integer"),
    (lambda: nn.Linear(3, 2.0), r"Linear: out_features must be a positive integer"),
    (lambda: nn.PReLU(0), r"PReLU: num_parameters must be a positive integer"),
    (lambda: nn.PReLU(True), r"PReLU: num_parameters must be a positive integer"),
    (lambda: nn.PReLU(4, init=float("nan")), r"PReLU: init must be a finite number"),
    (lambda: nn.PReLU(4, init="0.25"), r"PReLU: init must be a finite number"),
    (lambda: nn.LeakyReLU(float("inf")), r"LeakyReLU: negative_slope must be a finite number"),
    (lambda: nn.Dropout(1.5), r"Dropout: p must be a number in \[0, 1\]"),
    (lambda: nn.Flatten(1.5), r"Flatten: start_dim must be an int"),
]


@pytest.mark.parametrize("build,message", BAD)
def test_bad_arguments_fail_at_construction_naming_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_good_arguments_are_kept():
    conv = nn.Conv2d(3, 4, (3, 5), stride=(1, 2), padding=(1, 2),
                     dilation=np.int64(2))
    assert conv.kernel_size == (3, 5) and conv.stride == (1, 2) and conv.dilation == (2, 2)
    assert conv.padding == (1, 2) and conv.weight.shape == (4, 3, 3, 5)
    assert nn.Conv2d(3, 4, 3, padding="same").padding == "same"
    pool = nn.MaxPool2d(3, stride=2, padding=1)
    assert (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)
    assert nn.PReLU(np.int64(3), init=0).weight.data.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="floating point"):
        nn.PReLU(2, dtype=np.int32)


def test_module_and_container_misuse_is_named():
    import tinyrect as tr

    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with pytest.raises(TypeError, match="indices must be integers or slices"):
        m["0"]
    assert m[np.int64(-1)] is m[1]
    with pytest.raises(TypeError, match="expected a dict of arrays.*got list"):
        m.load_state_dict([np.zeros((3, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="CPU only"):
        m.to("cuda")
    assert m.to("cpu") is m and m[0].weight.dtype == np.float32
    with pytest.raises(TypeError, match="expected a dtype"):
        m.to("banana")
    assert tr.Tensor(np.ones((1, 2))).dtype == np.float64 and m.double()[0].weight.dtype == np.float64
