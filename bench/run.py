"""Run the benchmarks: ``python3 dev.py bench [name ...]`` (names: the modules of bench/)."""
import importlib
import logging
import os
import pkgutil
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))


def main(names):
    logging.disable(logging.WARNING)  # start-up chatter of the applications built
    warnings.simplefilter("ignore", DeprecationWarning)
    available = sorted(m.name for m in pkgutil.iter_modules([HERE]) if m.name not in ("common", "run", "__init__"))
    for name in names or available:
        if name not in available:
            sys.exit("unknown benchmark %r; available: %s" % (name, ", ".join(available)))
        importlib.import_module("bench.%s" % name).main()


if __name__ == "__main__":
    main(sys.argv[1:])
