"""Real front servers for the tests and benchmarks: nginx and Apache run from a temporary directory."""
import contextlib
import http.server
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import threading
import types

from tests.commands import command
from tests.sample import Server, free_port, serving, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
APACHECTL = shutil.which("apache2ctl") or "/usr/sbin/apache2ctl"
APACHE_MODULES = "/usr/lib/apache2/modules"
#: Where Debian keeps nginx's dynamic modules, and the files that load the enabled ones.
NGINX_MODULES = "/usr/lib/nginx/modules"
NGINX_MODULES_ENABLED = "/etc/nginx/modules-enabled"
NGINX_BROTLI = os.path.join(NGINX_MODULES, "ngx_http_brotli_static_module.so")


@contextlib.contextmanager
def readable_directory():
    """A directory the front server's own user (www-data) can read, as a real export must be
    (a test's tmp_path is not): removed, with all it holds, once the block ends."""
    directory = tempfile.mkdtemp(prefix="tgext-export-")
    try:
        os.chmod(directory, 0o755)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


#: The host the tests' front servers answer for, as the README has every deployment name
#: its own with --server-name: the tests ask for http://127.0.0.1:<port>/.
LOCAL_NAMES = ("127.0.0.1",)


def webserver_config(kind, app, root, server_names=LOCAL_NAMES, options=()):
    """What `tgext-resources webserver-config` writes for front server ``kind`` (nginx, apache)
    serving the export in ``root``, answering for ``server_names`` (none: any host) and sending
    everything else to ``app`` (a served application); ``options``: more of its arguments."""
    names = [arg for name in server_names for arg in ("--server-name", name)]
    return command("webserver-config", kind, "-c", app.ini, "--root", root, "--upstream", app.url[len("http://"):],
                   *names, *options)


@contextlib.contextmanager
def behind_nginx(directory, fscache=False, server_names=LOCAL_NAMES, tls=None, **app_options):
    """The sample application deployed as its README says, everything run from ``directory``:
    served by `gearbox serve` (``app_options`` changed in its .ini), its resources exported
    with `tgext-resources export`, nginx in front with the configuration `tgext-resources
    webserver-config nginx --server-name 127.0.0.1` writes.  ``fscache``: the application
    writes its filesystem cache where nginx reads it.  ``tls``: (certificate, key) for
    ``--tls-cert`` and ``--tls-key``, with ``--tls-listen`` a free port.

    Yields a namespace: ``app`` and ``nginx`` (Servers; with ``tls``, ``nginx.url`` is the
    https:// one and ``nginx.http_url`` the plain one), ``export`` and ``cache`` (directories),
    ``summary`` (what the export printed), ``config`` (nginx's site) and ``log`` (nginx's access
    log: the URI, the status, and the upstream or "-" when nginx answered from the disk)."""
    directory = str(directory)
    with readable_directory() as readable:
        export = os.path.join(readable, "export")
        cache = os.path.join(readable, "fscache") if fscache else None
        if fscache:
            app_options["fscache.dir"] = cache
        with serving(directory, **app_options) as app:
            summary = command("export", "-c", app.ini, "-o", export)
            tls_port = free_port() if tls else None
            options = ["--tls-cert", tls[0], "--tls-key", tls[1], "--tls-listen", str(tls_port)] if tls else []
            config = webserver_config("nginx", app, export, server_names, options)
            nginx = start_nginx(directory, config, tls_port=tls_port)
            try:
                yield types.SimpleNamespace(app=app, nginx=nginx, export=export, cache=cache, summary=summary,
                                            config=config, log=os.path.join(directory, "nginx-access.log"))
            finally:
                nginx.stop()


def start_nginx(directory, site_conf, tls_port=None):
    """nginx in the foreground on a free port, with ``site_conf`` in its http block, once
    ``nginx -t`` accepts the configuration.  ``tls_port``: the site's ``--tls-listen``; the
    Server's URL is then https:// on that port (its certificate is not checked: tests make
    their own)."""
    port = free_port()
    site = os.path.join(directory, "site.conf")
    with open(site, "w") as f:
        # Every server block of the site (its own, the default ones refusing other hosts, the
        # redirecting one), on the loopback: port 80 moved to a free one, the TLS port kept.
        ports = {"80": str(port), str(tls_port): str(tls_port)}
        f.write(re.sub(r"^(\s*)listen (80|%s)\b" % tls_port,
                       lambda m: "%slisten 127.0.0.1:%s" % (m.group(1), ports[m.group(2)]), site_conf, flags=re.M))
    temp = os.path.join(directory, "nginx-temp")
    os.makedirs(temp, exist_ok=True)
    # Debian's nginx.conf loads the enabled dynamic modules (brotli_static among them, which
    # `webserver-config --brotli auto` looks for there) with "load_module modules/...":
    # relative to nginx's prefix, here ``directory``.
    if not os.path.exists(os.path.join(directory, "modules")):
        os.symlink(NGINX_MODULES, os.path.join(directory, "modules"))
    main = os.path.join(directory, "nginx.conf")
    with open(main, "w") as f:
        f.write("""
include {modules_enabled}/*.conf;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # Which requests nginx answered from the disk ("-") and which it sent to the application.
    log_format upstream '$request_uri $status $upstream_addr';
    access_log {d}/nginx-access.log upstream;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    include {site};
}}
""".format(d=directory, t=temp, site=site, modules_enabled=NGINX_MODULES_ENABLED))
    check = subprocess.run([NGINX, "-t", "-c", main, "-p", directory], capture_output=True, text=True)
    assert check.returncode == 0 and "test is successful" in check.stderr, check.stderr
    log = os.path.join(directory, "nginx-start.log")
    with open(log, "w") as output:
        process = subprocess.Popen([NGINX, "-c", main, "-p", directory, "-g", "daemon off;"], stdout=output, stderr=subprocess.STDOUT)
    server = Server(process, "http://127.0.0.1:%d" % port, log=log)
    server.http_url, context = server.url, None
    if tls_port is not None:
        # The plain port only redirects there.
        server.url, context = "https://127.0.0.1:%d" % tls_port, unverified_tls()
    wait_for(server.url + "/tw2/resources/", process, log, context=context)
    return server


class BaseURL(str):
    """A server's base URL (its https:// one with TLS), with ``http_url``: the plain port's."""

    def __new__(cls, url, http_url):
        base = super().__new__(cls, url)
        base.http_url = http_url
        return base


def unverified_tls():
    """An ssl.SSLContext that takes any certificate: the tests make their own, self-signed."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


@contextlib.contextmanager
def running_nginx(directory, site_conf, tls_port=None):
    """nginx on a free port with ``site_conf`` as its only site, once ``nginx -t`` accepts
    the configuration: yields its base URL (with ``tls_port``, the https:// one; the plain
    one is then ``base.http_url``), stops it afterwards."""
    server = start_nginx(directory, site_conf, tls_port=tls_port)
    try:
        yield BaseURL(server.url, server.http_url)
    finally:
        server.stop()


def apache_main_config(directory, port, site_conf):
    """httpd.conf for ``site_conf`` on 127.0.0.1: its port 80 moved to ``port``, any other port
    (a TLS one) kept, the modules its "# Modules:" line names loaded."""
    modules = [line for line in site_conf.splitlines() if line.startswith("# Modules: ")][0]
    names = modules[len("# Modules: "):].split(" (")[0].split()
    ports = sorted({p for p in re.findall(r"^<VirtualHost \*:(\d+)>", site_conf, flags=re.M)})
    lines = [
        "ServerRoot /etc/apache2", "PidFile %s/apache.pid" % directory, "ErrorLog %s/apache-error.log" % directory,
        "ServerName localhost", "TypesConfig /etc/mime.types",
        "LoadModule mpm_event_module %s/mod_mpm_event.so" % APACHE_MODULES,
    ]
    lines += ["Listen 127.0.0.1:%s" % (port if p == "80" else p) for p in ports]
    lines += ["LoadModule %s_module %s/mod_%s.so" % (name, APACHE_MODULES, name) for name in names]
    if "ssl" in names:
        # What Debian's ssl.conf sets once mod_ssl is enabled (the session cache is global).
        lines += ["LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % APACHE_MODULES,
                  "SSLSessionCache shmcb:%s/ssl_scache(512000)" % directory]
    site = os.path.join(directory, "apache-site.conf")
    with open(site, "w") as f:
        f.write(site_conf.replace("<VirtualHost *:80>", "<VirtualHost *:%d>" % port))
    main = os.path.join(directory, "httpd.conf")
    with open(main, "w") as f:
        f.write("\n".join(lines + ["Include %s" % site]) + "\n")
    return main


@contextlib.contextmanager
def running_apache(directory, site_conf, tls_port=None):
    """Apache on a free port with ``site_conf`` as its only site, once ``apache2ctl -t``
    accepts the configuration: yields its base URL, stops it afterwards.  ``tls_port``: the
    site's ``--tls-listen``; the base URL is then https:// on that port, and the plain
    one ``base.http_url``."""
    port = free_port()
    main = apache_main_config(directory, port, site_conf)
    check = subprocess.run([APACHECTL, "-t", "-f", main], capture_output=True, text=True)
    assert check.returncode == 0 and "Syntax OK" in check.stderr + check.stdout, check.stderr
    subprocess.run([APACHE, "-f", main, "-k", "start"], check=True, capture_output=True)
    try:
        base, context = BaseURL("http://127.0.0.1:%d" % port, "http://127.0.0.1:%d" % port), None
        if tls_port is not None:
            base, context = BaseURL("https://127.0.0.1:%d" % tls_port, base), unverified_tls()
        wait_for(base + "/tw2/resources/", subprocess.Popen(["true"]), os.path.join(directory, "apache-error.log"),
                 context=context)
        yield base
    finally:
        subprocess.run([APACHE, "-f", main, "-k", "stop"], capture_output=True)


@contextlib.contextmanager
def recording_upstream():
    """A stand-in for the application: an HTTP server on a free port answering 200
    "application" to everything, and keeping the path and Host header of each request it
    got.  Yields a namespace: ``address`` (HOST:PORT for --upstream), ``requests`` (a list of
    (path, host)) and ``headers`` (the headers of each request, in the same order)."""
    requests, headers = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # nginx keeps its upstream connections alive

        def do_GET(self):
            headers.append(dict(self.headers.items()))
            requests.append((self.path, self.headers.get("Host")))
            body = b"application"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass  # quiet test output

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield types.SimpleNamespace(address="127.0.0.1:%d" % server.server_address[1], requests=requests,
                                    headers=headers)
    finally:
        server.shutdown()
        server.server_close()
