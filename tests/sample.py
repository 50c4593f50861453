"""The sample application, configured from a copy of development.ini."""
import configparser
import os
import socket

from paste.deploy import loadapp
from tg.configuration import milestones
from webtest import TestApp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVELOPMENT_INI = os.path.join(ROOT, "development.ini")


def write_ini(directory, port=None, **app_options):
    """Write development.ini into ``directory`` (so its data lands there), with ``app_options`` changed."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # keep the keys' case
    parser.read(DEVELOPMENT_INI)
    for key, value in app_options.items():
        # PasteDeploy lets [DEFAULT] win over a plain key of the same name in [app:main]
        # (overriding needs "set key = value"), so change such keys where they are defined.
        section = "DEFAULT" if key in parser.defaults() else "app:main"
        parser.set(section, key, str(value))
    if port is not None:
        parser.set("server:main", "port", str(port))
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
