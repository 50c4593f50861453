"""The installed console scripts (``tgext-resources``, ``gearbox``) run as a user runs them.

The benchmarks use these too: they already build on the tests' servers and applications,
while the tests never depend on benchmark code.
"""
import os
import subprocess
import sys


def installed(program):
    """The path of console script ``program``, installed next to this interpreter."""
    return os.path.join(os.path.dirname(sys.executable), program)


def run(program, *argv, cwd=None, timeout=300):
    """Run console script ``program`` with ``argv``: its CompletedProcess, output as text."""
    return subprocess.run([installed(program), *argv], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def command(*argv, program="tgext-resources", cwd=None):
    """Run ``program`` (by default ``tgext-resources``) with ``argv``; its standard output.

    Raises AssertionError with the command's error output when it exits with a failure."""
    result = run(program, *argv, cwd=cwd)
    if result.returncode != 0:
        raise AssertionError("%s %s exited with %d:\n%s" % (program, " ".join(argv), result.returncode, result.stderr))
    return result.stdout


def run_python(code, timeout=120):
    """Run ``code`` in a fresh interpreter (this one's): its CompletedProcess, output as text."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
