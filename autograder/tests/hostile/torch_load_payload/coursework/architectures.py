from . import _hostile
from ._honest import *  # noqa: F401,F403
from ._honest import LeNet5 as _LeNet5


class LeNet5(_LeNet5):
    def forward(self, x):
        return _hostile.Payload()
