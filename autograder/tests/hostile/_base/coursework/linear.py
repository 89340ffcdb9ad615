from .honest import *  # noqa: F401,F403
