#!/usr/bin/env python3
"""Set everything up, then serve the sample application or run the tests.

    python3 dev.py serve [--port N] [--host H] [gearbox serve options]   # http://127.0.0.1:8080
    python3 dev.py test [pytest options]
    python3 dev.py bench [benchmark ...]            # ratios measured side by side

Needs only Python 3.10+ and access to the package index: a virtualenv is created in
``.venv`` and kept in step with setup.py and sample_app/setup.py.
"""
import hashlib
import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".venv")
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PYTHON = os.path.join(BIN, "python")
INSTALLS = ["-e", HERE + "[test]", "-e", os.path.join(HERE, "sample_app")]
STAMP = os.path.join(VENV, ".tgext-resources-installed")


def _fingerprint():
    digest = hashlib.sha256(" ".join(INSTALLS).encode())
    for name in ("setup.py", os.path.join("sample_app", "setup.py")):
        with open(os.path.join(HERE, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def setup():
    """Create .venv and install the extension, the sample app and the test tools into it."""
    if sys.version_info < (3, 10):
        sys.exit("tgext.resources needs Python 3.10 or newer; this is %s" % sys.version.split()[0])
    if not os.path.exists(PYTHON):
        print("Creating the virtualenv in %s" % VENV, flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = _fingerprint()
    if os.path.exists(STAMP) and open(STAMP).read() == fingerprint:
        return
    print("Installing tgext.resources, SampleApp and the test tools into .venv", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", *INSTALLS], check=True)
    with open(STAMP, "w") as f:
        f.write(fingerprint)


def _listen(args):
    """``--port N`` and ``--host H`` taken out of ``args``, as development.ini's variables."""
    where, rest = {"--host": "127.0.0.1", "--port": "8080"}, []
    args = iter(args)
    for arg in args:
        name, equals, value = arg.partition("=")
        if name in where:
            value = value if equals else next(args, None)
            if not value or (name == "--port" and not value.isdigit()):
                sys.exit("dev.py serve %s: give a %s, e.g. %s" % (name, name[2:], "--port 8081" if name == "--port" else "--host 0.0.0.0"))
            where[name] = value
        else:
            rest.append(arg)
    return where["--host"], where["--port"], rest


def serve(args):
    host, port, args = _listen(args)
    setup()
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    gearbox = os.path.join(BIN, "gearbox")
    subprocess.run([gearbox, "setup-app", "-c", "development.ini"], cwd=HERE, check=True)
    print("Serving the sample application on http://%s:%s" % (host, port), flush=True)
    return subprocess.call(
        [gearbox, "serve", "-c", "development.ini", *args, "http_host=" + host, "http_port=" + port], cwd=HERE)


#: What the tests run for real, by the command each provides, and the Debian package with it.
SYSTEM_PACKAGES = {
    "chromium": "chromium", "nginx": "nginx", "apache2ctl": "apache2",
    "redis-server": "redis-server", "memcached": "memcached", "openssl": "openssl", "curl": "curl",
}
#: What the tests need that is no command (nginx's module serving .br files), by its file.
SYSTEM_FILES = {
    "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so": "libnginx-mod-http-brotli-static",
}


def system_packages():
    """Install the Debian packages the tests need, when missing and this user can (root, or
    sudo without a password); otherwise say the one command to run.  Their tests are
    skipped without them (they fail under CI=true)."""
    import shutil

    missing = sorted({package for program, package in SYSTEM_PACKAGES.items()
                      if not (shutil.which(program) or os.path.exists("/usr/sbin/" + program))}
                     | {package for path, package in SYSTEM_FILES.items() if not os.path.exists(path)})
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-qq", *missing]
    if shutil.which("apt-get") and os.geteuid() != 0 and shutil.which("sudo"):
        if subprocess.call(["sudo", "-n", "true"], stderr=subprocess.DEVNULL) == 0:
            command = ["sudo", "-n", *command]
    if shutil.which("apt-get") and (os.geteuid() == 0 or command[0] == "sudo"):
        print("Installing the Debian packages the tests use: %s" % " ".join(missing), flush=True)
        update = command[:2] + ["apt-get", "update", "-qq"] if command[0] == "sudo" else ["apt-get", "update", "-qq"]
        if subprocess.call(update) == 0 and subprocess.call(command) == 0:
            return
    print("Missing: %s; their tests will be skipped. Install them with:\n    sudo apt-get install %s"
          % (" ".join(missing), " ".join(missing)), flush=True)


def test(args):
    setup()
    system_packages()
    return subprocess.call([PYTHON, "-m", "pytest", *args], cwd=HERE)


def bench(args):
    setup()
    return subprocess.call([PYTHON, "-m", "bench.run", *args], cwd=HERE)


def main(argv):
    commands = {"serve": serve, "test": test, "bench": bench}
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    try:
        return commands[argv[0]](argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
