"""Dynamic sparse training for fastai: Brain-Mimetic Synapse Adjustment (BMSA), SET and AccSET"""

__version__ = "0.0.1"

import warnings as _warnings
_warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)  # from fastai's imports, not ours

from . import masked as _masked, compressed as _compressed   # the backends that ship with bmsa register themselves
