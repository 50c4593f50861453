"""Run the benchmarks: ``python3 dev.py bench [name ...]`` (names: the modules of bench/).

Each runs in a process of its own: ToscaWidgets and Beaker keep process-wide state (resource
registries, memory caches) that one benchmark must not leave to the next.
"""
import os
import pkgutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = """
import logging, warnings
logging.disable(logging.WARNING)  # start-up chatter of the applications built
warnings.simplefilter("ignore", DeprecationWarning)
import importlib
importlib.import_module("bench.%s").main()
"""


def main(names):
    # Modules whose name starts with "_" are parts of a benchmark, not benchmarks.
    available = sorted(m.name for m in pkgutil.iter_modules([HERE])
                       if m.name not in ("common", "run", "__init__") and not m.name.startswith("_"))
    failed = []
    for name in names or available:
        if name not in available:
            sys.exit("unknown benchmark %r; available: %s" % (name, ", ".join(available)))
        if subprocess.call([sys.executable, "-c", RUNNER % name], cwd=os.path.dirname(HERE)) != 0:
            failed.append(name)
    if failed:
        sys.exit("failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main(sys.argv[1:])
