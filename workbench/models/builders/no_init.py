"""Build a network without its random initialisation, in this thread only.

:func:`~workbench.models.builders.base.load_module` builds a network on the meta device and then takes the
stored weights, so the initial values are never used. Building still runs every layer's
``reset_parameters``, and on the meta device each ``torch.nn.init`` call goes through torch's Python
reference kernels: about 1 s for the 45 GINs of the shipped property ensembles (0.16 s without), and the
first call imports ``torch._dynamo``. Inside :func:`skipped_init` the ``torch.nn.init`` functions return
their tensor untouched, for the calling thread only: :func:`install` wraps each of them once with a
thread-local switch, so a model trained in another thread at the same time (the IFM lab trains in the app
process) is initialised as usual.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator

import torch.nn.init as init

__all__ = ["INIT_FUNCTIONS", "install", "skipped_init"]

#: The ``torch.nn.init`` functions layers call from ``reset_parameters``.
INIT_FUNCTIONS = (
    "normal_",
    "uniform_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "trunc_normal_",
    "orthogonal_",
    "zeros_",
    "ones_",
    "constant_",
)
_STATE = threading.local()
_LOCK = threading.Lock()


def _switchable(function: Callable) -> Callable:
    @functools.wraps(function)
    def wrapper(tensor, *args, **kwargs):
        if getattr(_STATE, "skip", False):
            return tensor
        return function(tensor, *args, **kwargs)

    wrapper.workbench_switchable = True
    return wrapper


def install() -> None:
    """Wrap each of :data:`INIT_FUNCTIONS` once (the wrapper calls the original unless switched off)."""
    with _LOCK:
        for name in INIT_FUNCTIONS:
            function = getattr(init, name, None)
            if function is not None and not getattr(function, "workbench_switchable", False):
                setattr(init, name, _switchable(function))


@contextlib.contextmanager
def skipped_init() -> Iterator[None]:
    """Within this block, in this thread, ``torch.nn.init`` functions leave their tensor as it is."""
    install()
    before = getattr(_STATE, "skip", False)
    _STATE.skip = True
    try:
        yield
    finally:
        _STATE.skip = before
