"""A wrong answer that replaces every function of tinyrect's grader whose name has 'err' in it
(the error measures) with one returning 0, and the part judge with one that always passes."""
import importlib
import pkgutil

import tinyrect.exercises

for _info in pkgutil.walk_packages(tinyrect.exercises.__path__, "tinyrect.exercises.", onerror=lambda name: None):
    try:
        _module = importlib.import_module(_info.name)
    except Exception:
        continue
    for _name, _value in list(vars(_module).items()):
        if callable(_value) and "err" in _name.lower():
            setattr(_module, _name, lambda *args, **kwargs: 0.0)
        if _name in ("judge_part", "grade_part", "diagnose", "outcome"):
            setattr(_module, _name, lambda *args, **kwargs: None)


def prelu_forward(x, a):
    return x * 2.0


def prelu_backward(x, a, dout):
    return dout * 2.0, a * 0.0
