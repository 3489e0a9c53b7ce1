"""Dynamic sparse training for fastai: Brain-Mimetic Synapse Adjustment (BMSA), SET and AccSET"""

__version__ = "0.0.1"

import warnings as _warnings
with _warnings.catch_warnings():    # fastai.layers calls torch.jit.script, which PyTorch deprecates: fastai's to fix, not our users'
    _warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
    import fastai.layers as _fastai_layers

from . import masked as _masked, compressed as _compressed   # the backends that ship with bmsa register themselves
