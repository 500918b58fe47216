"""Layers and networks: Module, Parameter, containers, rectifiers and weighted layers.

  module.py       Module (parameter/submodule registration, hooks, state_dict), Parameter
  containers.py   Sequential, ModuleList
  activations.py  ReLU, LeakyReLU, PReLU (Eq. 1), Identity
  layers.py       Conv2d, Linear (He init by default, Eq. 10), MaxPool2d, AvgPool2d,
                  AdaptiveAvgPool2d, Flatten
"""
from tinyrect.nn.module import IncompatibleKeys, Module, Parameter, RemovableHandle  # noqa: F401
from tinyrect.nn.containers import ModuleList, Sequential  # noqa: F401
from tinyrect.nn.activations import Identity, LeakyReLU, PReLU, ReLU  # noqa: F401
from tinyrect.nn.layers import (  # noqa: F401
    AdaptiveAvgPool2d, AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d,
)
from tinyrect import functional  # noqa: F401  (nn.functional, as in torch)
