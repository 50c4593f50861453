"""tgext.resources built as it would be published, and virtualenvs of their own to use it in.

The build runs on a copy of the checkout (the working tree as it is, uncommitted files
included, and some files a developer's checkout accumulates), with ``python -m build``
installed in a virtualenv of its own: nothing is written into the checkout, and nothing is
installed into the virtualenv the tests run in.  pip's cache is shared with the user's.
"""
import os
import shutil
import subprocess
import sys
import types
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tgext_resources"

#: Left out of the copy: history, and the virtualenv the tests run in (hundreds of MB).
#: The build must keep such things out by itself: DECOYS puts small ones back.
NOT_COPIED = {".git", ".venv"}
#: Written by any Python or pytest run, never by a build.
CACHES = {"__pycache__", ".pytest_cache"}

#: What a developer's checkout accumulates, planted in the copy: none may reach a distribution.
DECOYS = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/python3/site-packages/leaked_from_venv.py": "LEAK = 1\n",
    "data/leaked.db": "not a database\n",
    "build/lib/tgext_resources/leaked_from_build.py": "LEAK = 1\n",
    "dist/tgext_resources-0.0.1-py3-none-any.whl": "not a wheel\n",
    "tgext_resources/__pycache__/leaked.cpython-311.pyc": "not byte-code\n",
    "tests/leaked_tmp/test_leaked.py": "LEAK = 1\n",
    "sample_app/sampleapp/public/aggregated/leaked.js": "var leak = 1;\n",
}


class Virtualenv:
    """A virtualenv made with this interpreter's ``venv``, and its programs run as if activated."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.bin = os.path.join(self.directory, "Scripts" if os.name == "nt" else "bin")
        venv.EnvBuilder(with_pip=True, clear=True).create(self.directory)

    def path(self, program):
        return os.path.join(self.bin, program)

    def environ(self):
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
        env["VIRTUAL_ENV"] = self.directory
        env["PATH"] = self.bin + os.pathsep + env.get("PATH", "")
        return env

    def run(self, program, *argv, cwd=None, check=True, timeout=600):
        """Run ``program`` of this virtualenv (by default in its directory, so that nothing is
        imported from the checkout): its CompletedProcess (text); with ``check``,
        AssertionError with its output when it fails."""
        result = subprocess.run(
            [self.path(program), *argv], capture_output=True, text=True, cwd=cwd or self.directory, timeout=timeout,
            env=self.environ(), stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError("%s %s exited with %d:\n%s\n%s" % (
                program, " ".join(argv), result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
        return result

    def pip(self, *argv, **kwargs):
        return self.run("python", "-m", "pip", *argv, **kwargs)

    def popen(self, argv, log, cwd=None):
        """Start ``argv`` (a program of this virtualenv first) in the background, output to ``log``."""
        with open(log, "w") as output:
            return subprocess.Popen([self.path(argv[0]), *argv[1:]], cwd=cwd or self.directory, env=self.environ(),
                                    stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def checkout_state():
    """What a build run in the checkout would change: every path of it (but .git, .venv and
    byte-code caches), and the modification time of every file of its egg-info directories,
    which setuptools rewrites.  (Source files are not dated: an editor may save one meanwhile.)"""
    state = set()
    for parent, directories, files in os.walk(ROOT):
        directories[:] = [d for d in directories if d not in CACHES and not (parent == ROOT and d in NOT_COPIED)]
        in_egg_info = ".egg-info" in parent
        for name in directories + files:
            path = os.path.join(parent, name)
            state.add((os.path.relpath(path, ROOT), os.lstat(path).st_mtime_ns if in_egg_info else None))
    return state


def copy_checkout(destination):
    """The working tree (but NOT_COPIED) copied to ``destination``, DECOYS planted in it."""
    shutil.copytree(ROOT, destination, symlinks=True,
                    ignore=lambda parent, names: [n for n in names if parent == ROOT and n in NOT_COPIED])
    for relative, text in DECOYS.items():
        path = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return destination


def package_files():
    """The package's modules in the checkout, as paths in a distribution (tgext_resources/x.py)."""
    found = set()
    for parent, directories, files in os.walk(os.path.join(ROOT, PACKAGE)):
        directories[:] = [d for d in directories if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                found.add(os.path.relpath(os.path.join(parent, name), ROOT).replace(os.sep, "/"))
    return found


def build(directory):
    """``python -m build`` of a copy of the checkout, as a maintainer publishing it would run it.

    Returns a namespace: ``sdist`` and ``wheel`` (paths), ``tools`` (the Virtualenv with build
    and twine), ``output`` (what the build printed), ``before`` and ``after`` (checkout_state
    around the build)."""
    directory = str(directory)
    tools = Virtualenv(os.path.join(directory, "tools"))
    tools.pip("install", "--quiet", "build", "twine")
    before = checkout_state()
    source = copy_checkout(os.path.join(directory, "source"))
    dist = os.path.join(directory, "dist")
    result = tools.run("python", "-m", "build", "--outdir", dist, source)
    after = checkout_state()
    built = sorted(os.listdir(dist))
    sdists = [name for name in built if name.endswith(".tar.gz")]
    wheels = [name for name in built if name.endswith(".whl")]
    assert len(sdists) == 1 and len(wheels) == 1, built
    return types.SimpleNamespace(
        sdist=os.path.join(dist, sdists[0]), wheel=os.path.join(dist, wheels[0]), tools=tools,
        output=result.stdout + result.stderr, before=before, after=after, source=source,
    )


if __name__ == "__main__":  # pragma: no cover - by hand: python -m tests.wheel DIR
    print(build(sys.argv[1]).wheel)
