"""The sample application, configured from a copy of development.ini."""
import configparser
import itertools
import contextlib
import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from paste.deploy import loadapp
from tg.configuration import milestones
from webtest import TestApp

from tests.commands import command, installed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVELOPMENT_INI = os.path.join(ROOT, "development.ini")
#: Where the sample application's README has the bundles written (kept out of git).
AGGREGATED = os.path.join(ROOT, "sample_app", "sampleapp", "public", "aggregated")


_REGIONS = itertools.count()


def write_ini(directory, port=None, **app_options):
    """Write development.ini into ``directory`` (so its data lands there), with ``app_options`` changed.

    Unless told otherwise, the copy caches in a memory region of its own: Beaker's memory
    store is shared by the whole process, and each test has a database of its own.
    """
    app_options.setdefault("beaker.cache.regions", "sample%d_%d" % (os.getpid(), next(_REGIONS)))
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # keep the keys' case
    parser.read(DEVELOPMENT_INI)
    for key, value in app_options.items():
        # PasteDeploy lets [DEFAULT] win over a plain key of the same name in [app:main]
        # (overriding needs "set key = value"), so change such keys where they are defined.
        section = "DEFAULT" if key in parser.defaults() else "app:main"
        parser.set(section, key, str(value))
    if port is not None:
        parser.set("DEFAULT", "http_port", str(port))
    os.makedirs(str(directory), exist_ok=True)
    path = os.path.join(str(directory), "test.ini")
    with open(path, "w") as f:
        parser.write(f)
    os.makedirs(os.path.join(str(directory), "data"), exist_ok=True)
    return path


def load(ini_path):
    """Build the sample application from ``ini_path`` as gearbox serve would, with its tables."""
    try:
        wsgi = loadapp("config:" + ini_path)
    finally:
        milestones._reset_all()  # the next application built in this process starts afresh
    from sampleapp.websetup.schema import setup_schema

    setup_schema()
    return TestApp(wsgi)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aggregate():
    """Run `tgext-resources aggregate` for the sample application, as its README says: the
    ``aggregated_hash`` it prints last."""
    output = command("aggregate", "-d", "SampleApp", "--package", "sampleapp", "-o", AGGREGATED)
    return output.splitlines()[-1].split(" = ")[1]


class Server:
    """A process serving HTTP on a local port, stopped by ``stop()`` or when its block ends."""

    def __init__(self, process, url, ini=None, log=None):
        self.process = process
        self.url = url
        self.ini = ini
        self.log = log

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def wait_for(url, process, log, seconds=60, context=None):
    """Wait until ``url`` answers (``context``: the ssl.SSLContext for an https URL)."""
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2, context=context).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                with open(log) as f:
                    raise RuntimeError("%s did not start: %s" % (url, f.read()))
            time.sleep(0.2)


@contextlib.contextmanager
def _served(directory, program, log_name, app_options, tls=None):
    """The sample application's .ini written and its database set up, then ``program(ini,
    port)`` (a command line) run on a free port until the block ends."""
    port = free_port()
    ini = write_ini(directory, port=port, debug="false", auto_reload_templates="false", **app_options)
    command("setup-app", "-c", ini, program="gearbox", cwd=ROOT)
    log = os.path.join(str(directory), log_name)
    with open(log, "w") as output:
        process = subprocess.Popen(program(ini, port), cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    server = Server(process, "%s://127.0.0.1:%d" % ("https" if tls else "http", port), ini, log)
    try:
        wait_for(server.url + "/", process, log, context=ssl._create_unverified_context() if tls else None)
        yield server
    finally:
        server.stop()


def serving_gunicorn(directory, gunicorn_args=(), tls=None, **app_options):
    """The sample application served by gunicorn (``gunicorn --paste``, as README deploys it),
    with ``gunicorn_args`` added to its command line, on a free port.  ``tls``: (certificate,
    key) for ``--certfile`` and ``--keyfile``, and an https URL (any certificate accepted)."""
    if tls is not None:
        gunicorn_args = [*gunicorn_args, "--certfile", tls[0], "--keyfile", tls[1]]
    return _served(directory, lambda ini, port: [installed("gunicorn"), "--paste", ini, "--bind",
                                                 "127.0.0.1:%d" % port, *gunicorn_args],
                   "gunicorn.log", app_options, tls)


def serving(directory, **app_options):
    """The sample application served by `gearbox serve` from its .ini file on a free port."""
    return _served(directory, lambda ini, port: [installed("gearbox"), "serve", "-c", ini], "serve.log", app_options)
