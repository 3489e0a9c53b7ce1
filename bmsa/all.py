"`from bmsa.all import *`: the public API of bmsa, fastai style."
from .data import *
from .models import *
from .paper import *
from .sparse import *
from .masked import *
from .dst import *
from .set import *
from .accset import *
from .bmsa import *
from .rigl import *
from .compressed import *
from .runs import *
from .topology import *
from .explorer import *
from .train import train, sparse_training_callback
from .figures import *
