"""Dynamic sparse training for fastai: Brain-Mimetic Synapse Adjustment (BMSA), SET and AccSET

Modules:

- `bmsa.backend`: `SparseLinear`: a layer that stores only its connections, so a training step costs time and memory in proportion to the connections and not to the dense size. The same SET, AccSET and BMSA rules run on it unchanged.
- `bmsa.dst`: `DynamicSparseTraining`: the fastai callback that SET, AccSET and BMSA share. It makes a model sparse, keeps it sparse while it trains, and after every epoch but the last lets its subclass prune and regrow connections."""

__version__ = "0.0.1"

import warnings as _warnings
_warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)  # from fastai's imports, not ours
