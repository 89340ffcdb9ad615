from .honest import *  # noqa: F401,F403

while True:  # at import
    pass
