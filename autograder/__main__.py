import sys

from .cli import main

# The guard matters: grade-many's pool starts fresh interpreters ("spawn"), which import this
# module again under another name.
if __name__ == "__main__":
    sys.exit(main())
