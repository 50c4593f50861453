"""Real cache servers for the tests: redis-server and memcached on free loopback ports."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time

from tests.sample import Server, free_port

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"


def _wait_for_port(port, process, name, seconds=20):
    deadline = time.time() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                raise RuntimeError("%s did not start on port %d" % (name, port))
            time.sleep(0.05)


def start_redis(directory, port=None):
    port = port or free_port()
    process = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    _wait_for_port(port, process, "redis-server")
    return Server(process, "redis://127.0.0.1:%d/0" % port)


def start_memcached(port=None):
    port = port or free_port()
    command = [MEMCACHED, "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.geteuid() == 0:
        command += ["-u", "root"]  # memcached refuses to run as root without being told
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_for_port(port, process, "memcached")
    return Server(process, "127.0.0.1:%d" % port)


@contextlib.contextmanager
def frozen(server):
    """``server`` stopped (SIGSTOP) while the block runs: the kernel still accepts its
    connections, and nothing answers, as with a server hung or swapped out."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
