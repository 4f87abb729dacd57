import os
import sys

from .cli import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# Skip interpreter teardown: freeing the closure graph of a large program takes seconds.
os._exit(code)
