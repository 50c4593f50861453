"""The same trivial controller on a quickstart-shaped full stack, with and without minimal_mode.

The full stack as a quickstart has it: sessions, i18n, authentication (with an
authentication metadata provider configured), the transaction manager, custom error
pages, error and slow-request tracing, static files; production settings.  Direct WSGI
calls in-process, interleaved rounds.  Then a profile of the minimal-mode request: where
the remaining time goes.
"""
import cProfile
import io
import pstats

from tg import expose
from tg.configuration.auth import TGAuthMetadata

from bench.common import compare, report, wsgi_get
from tests.apps import RootController, build


class NobodyKnown(TGAuthMetadata):
    """Authentication is configured; no request in the benchmark logs in."""

    def authenticate(self, environ, identity):
        return None

    def get_user(self, identity, userid):
        return None

    def get_groups(self, identity, userid):
        return []

    def get_permissions(self, identity, userid):
        return []


class Root(RootController):
    @expose()
    def hello(self):
        return "Hello world"


QUICKSTART = {
    "debug": "false",
    "auto_reload_templates": "false",
    "sa_auth.enabled": True,
    "identity.enabled": True,
    "sa_auth.authmetadata": NobodyKnown(),
    "sa_auth.cookie_secret": "benchmark-secret",
    "errorpage.enabled": True,
    "beaker.session.type": "memory",
    "beaker.session.secret": "benchmark-secret",
    "trace_slowreqs.enable": True,
}


def main():
    full = build(root=Root(), **QUICKSTART).app
    minimal = build(root=Root(), minimal_mode="true", **QUICKSTART).app
    rates = compare({"full stack": wsgi_get(full, "/hello"), "minimal_mode = true": wsgi_get(minimal, "/hello")})
    report("Trivial controller, requests/s", rates, "full stack")

    call = wsgi_get(minimal, "/hello")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(3000):
        call()
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
    print("\nWhere a minimal-mode request spends its time (cProfile, 3000 requests, by own time):")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


if __name__ == "__main__":
    main()
