import numpy as np
import torchvision_that_does_not_exist  # noqa: F401

from .honest import *  # noqa: F401,F403
