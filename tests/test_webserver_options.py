"""``webserver-config``'s TLS and brotli options: what the blocks say, how ``--brotli auto``
decides, and a one-line error naming the option and the fix for every wrong combination."""
import os
import shutil
import subprocess

import pytest

from tests.commands import command, installed, run
from tests.conftest import require
from tests.frontservers import NGINX, readable_directory
from tests.sample import write_ini
from tests.test_frontserver_tls import OPENSSL, make_certificate
from tgext_resources.webserver import brotli_static

PREFIX = "tgext-resources webserver-config: error: "


@pytest.fixture(scope="module")
def pem(tmp_path_factory):
    """A certificate and its key, in a directory every user may read (see the unreadable key)."""
    require(os.path.exists(OPENSSL), "openssl (Debian package openssl)")
    with readable_directory() as directory:
        yield make_certificate(directory)


@pytest.fixture
def ini(tmp_path):
    return write_ini(tmp_path, debug="false")


def config(ini, server, *options):
    return command("webserver-config", server, "-c", ini, "--root", "/srv/site", "--upstream", "127.0.0.1:8080",
                   "--server-name", "site.example", *options)


def error_of(ini, *options, server="nginx", runner=None):
    """The one line ``webserver-config`` prints for ``options``, checking that it failed with
    nothing on its standard output."""
    argv = ["webserver-config", server, "-c", ini, "--root", "/srv/site", "--upstream", "127.0.0.1:8080", *options]
    result = runner(argv) if runner else run("tgext-resources", *argv)
    assert (result.returncode, result.stdout) == (1, ""), result
    assert result.stderr.startswith(PREFIX) and result.stderr.count("\n") == 1, result.stderr
    return result.stderr[len(PREFIX):].strip()


# -- what the blocks say ----------------------------------------------------------------------

def test_nginx_block_with_tls_listens_with_tls_and_http2_in_the_form_nginx_1_22_knows(ini, pem):
    block = config(ini, "nginx", "--tls-cert", pem[0], "--tls-key", pem[1])
    assert block.count("    listen 443 ssl http2;\n") == 1 and block.count("    listen 443 ssl http2 default_server;\n") == 1
    assert "http2 on;" not in block  # nginx 1.25.1 and later only
    assert block.count("ssl_protocols TLSv1.2 TLSv1.3;") == 2 and block.count("ssl_session_cache shared:") == 2
    assert "    listen 80;\n    server_name site.example;\n    return 301 https://$host$request_uri;\n" in block
    assert "proxy_set_header Host $host;" in block  # the default port: none added
    assert "add_header Strict-Transport-Security" not in block and "# No Strict-Transport-Security header" in block
    assert "--tls-cert %s --tls-key %s --tls-listen 443\n" % pem in block  # how to write it again


def test_apache_block_with_tls_has_the_modules_ssl_and_http2(ini, pem):
    block = config(ini, "apache", "--tls-cert", pem[0], "--tls-key", pem[1], "--listen", "8080", "--tls-listen", "8443")
    modules = [line for line in block.splitlines() if line.startswith("# Modules: ")][0].split()
    assert {"ssl", "http2", "rewrite", "headers"} <= set(modules)
    assert block.count("<VirtualHost *:8443>") == 2 and block.count("<VirtualHost *:8080>") == 2
    assert block.count("SSLCertificateFile %s\n" % pem[0]) == 2 and block.count("Protocols h2 http/1.1") == 2
    assert "RewriteRule ^ https://%{SERVER_NAME}:8443%{REQUEST_URI} [R=301,L]" in block
    assert 'RequestHeader set X-Forwarded-Proto "https"' in block
    assert "Header set Strict-Transport-Security" not in block


@pytest.mark.parametrize("server, directive", [("nginx", "brotli_static on;"), ("apache", "RewriteRule ^(.+)$ $1.br [L]")])
def test_brotli_on_and_off(ini, server, directive):
    on = config(ini, server, "--brotli", "on")
    assert directive in on and "# .br siblings: served (--brotli on).\n" in on
    off = config(ini, server, "--brotli", "off")
    assert directive not in off and "# .br siblings: not served (--brotli off).\n" in off
    assert "--brotli off\n" in off  # how to write it again


def test_nginx_without_the_module_accepts_the_block_only_with_brotli_off(ini, tmp_path):
    """Why ``--brotli`` exists: a block saying brotli_static fails `nginx -t` where the module
    is not loaded, and a server block cannot load it."""
    require(os.path.exists(NGINX), "nginx (Debian package nginx)")

    def nginx_t(block):
        with open(tmp_path / "site.conf", "w") as f:
            f.write(block)
        with open(tmp_path / "nginx.conf", "w") as f:  # no load_module: no modules-enabled
            f.write("pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n include /etc/nginx/mime.types;\n"
                    " include %s/site.conf;\n}\n" % (tmp_path, tmp_path, tmp_path))
        return subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                              capture_output=True, text=True)

    assert nginx_t(config(ini, "nginx", "--brotli", "off")).returncode == 0
    refused = nginx_t(config(ini, "nginx", "--brotli", "on"))
    assert refused.returncode != 0 and 'unknown directive "brotli_static"' in refused.stderr


def test_brotli_auto_follows_the_modules_nginx_loads(tmp_path):
    enabled = tmp_path / "modules-enabled"
    assert brotli_static("nginx", "auto", str(enabled))[0] is False  # no such directory
    enabled.mkdir()
    (enabled / "50-mod-http-geoip.conf").write_text("load_module modules/ngx_http_geoip_module.so;\n")
    assert brotli_static("nginx", "auto", str(enabled))[0] is False
    (enabled / "50-mod-http-brotli-static.conf").write_text("# load_module modules/ngx_http_brotli_static_module.so;\n")
    on, why = brotli_static("nginx", "auto", str(enabled))
    assert on is False and "libnginx-mod-http-brotli-static" in why and "--brotli on" in why
    (enabled / "50-mod-http-brotli-static.conf").write_text("load_module modules/ngx_http_brotli_static_module.so;\n")
    on, why = brotli_static("nginx", "auto", str(enabled))
    assert on is True and "50-mod-http-brotli-static.conf" in why
    assert brotli_static("apache", "auto", str(tmp_path / "nowhere"))[0] is True  # rewrite and headers suffice
    assert brotli_static("nginx", "off", str(enabled)) == (False, "--brotli off")


# -- errors -----------------------------------------------------------------------------------

def test_a_certificate_without_its_key_and_a_key_without_its_certificate(ini, pem):
    assert error_of(ini, "--tls-cert", pem[0]) == (
        "--tls-cert needs --tls-key too: give both, the certificate (with its chain) and its private key")
    assert error_of(ini, "--tls-key", pem[1]) == (
        "--tls-key needs --tls-cert too: give both, the certificate (with its chain) and its private key")


def test_tls_listen_without_tls(ini):
    assert error_of(ini, "--tls-listen", "8443") == (
        "--tls-listen 8443 needs --tls-cert FILE and --tls-key FILE: give the certificate and its key, "
        "or leave --tls-listen out")


@pytest.mark.parametrize("port", ["https", "0", "65536", "-1", "44 3"])
def test_a_tls_listen_that_is_no_port(ini, pem, port):
    assert error_of(ini, "--tls-cert", pem[0], "--tls-key", pem[1], "--tls-listen", port) == (
        "--tls-listen %s: use a port number from 1 to 65535 (443 by default)" % port)


@pytest.mark.parametrize("ports", [("443",), ("8443", "--tls-listen", "8443")])
def test_the_same_port_for_plain_http_and_tls(ini, pem, ports):
    port = ports[-1]
    assert error_of(ini, "--tls-cert", pem[0], "--tls-key", pem[1], "--listen", *ports) == (
        "--listen %s and --tls-listen %s are the same port: plain HTTP (which only redirects) and TLS need "
        "one each, e.g. --listen 80 --tls-listen 443" % (port, port))


def test_a_file_that_does_not_exist(ini, pem, tmp_path):
    missing = str(tmp_path / "missing.pem")
    assert error_of(ini, "--tls-cert", missing, "--tls-key", pem[1]) == (
        "--tls-cert %s: no such file; give the path of a PEM certificate (the site's, then its chain)" % missing)
    assert error_of(ini, "--tls-cert", pem[0], "--tls-key", str(tmp_path)) == (
        "--tls-key %s: no such file; give the path of a PEM private key without a passphrase" % tmp_path)


def test_a_key_the_user_cannot_read(ini, pem):
    with readable_directory() as directory:
        secret = os.path.join(directory, "secret.pem")
        shutil.copy(pem[1], secret)
        os.chmod(secret, 0o600)
        if os.geteuid() == 0:  # root reads anything: run the command as nobody
            require(shutil.which("setpriv"), "setpriv (Debian package util-linux)")

            def runner(argv):
                return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                       installed("tgext-resources"), *argv], capture_output=True, text=True)
        else:
            os.chmod(secret, 0)
            runner = None
        assert error_of(ini, "--tls-cert", pem[0], "--tls-key", secret, runner=runner) == (
            "--tls-key %s: cannot be read (Permission denied); run the command as a user who can read it, "
            "e.g. with sudo (the front server reads it as root)" % secret)


def test_swapped_certificate_and_key(ini, pem):
    assert error_of(ini, "--tls-cert", pem[1], "--tls-key", pem[0]) == (
        "--tls-cert %s: this is not a PEM certificate (the site's, then its chain); check that the certificate "
        "and the key are not swapped" % pem[1])


def test_an_encrypted_key(ini, pem, tmp_path):
    encrypted = str(tmp_path / "encrypted.pem")
    subprocess.run([OPENSSL, "pkey", "-in", pem[1], "-aes256", "-passout", "pass:secret", "-out", encrypted], check=True)
    assert error_of(ini, "--tls-cert", pem[0], "--tls-key", encrypted) == (
        "--tls-key %s: the key is encrypted, and the front server would ask for its passphrase at every start; "
        "give it a key without one (openssl pkey -in KEY -out PLAIN_KEY)" % encrypted)


def test_a_path_the_configuration_cannot_hold(ini, pem, tmp_path):
    spaced = str(tmp_path / "my cert.pem")
    shutil.copy(pem[0], spaced)
    assert error_of(ini, "--tls-cert", spaced, "--tls-key", pem[1]) == (
        "--tls-cert %s: the path holds a space, a quote or one of ; { } # $ \\, which the configuration cannot "
        "hold; move or link the file to a plain path" % spaced)


@pytest.mark.parametrize("server", ["nginx", "apache"])
def test_a_bad_brotli_choice(ini, server):
    assert error_of(ini, "--brotli", "yes", server=server) == "--brotli yes: use on, off or auto (the default)"
