"""The one rule for whether a response may be stored and shown to other visitors.

Both shared caches use it: the page cache (``cached_template``) and the filesystem cache
(``fs_cached``).  A response is kept for everyone only when nothing says it belongs to one
visitor or one request, as HTTP caches decide (RFC 9111, 3 and 5.2.2):

* the request: only GET (HEAD is answered from a cache, never stored: it has no body);
  no authenticated visitor (``repoze.who.identity``, which TurboGears' ``request.identity``
  comes from, or ``REMOTE_USER``) and no ``Authorization`` header, unless the cache keys
  its entries by that visitor (``cached_template(per_user=True)``);
* the response: status 200, no ``Set-Cookie``, no ``Cache-Control: private`` or
  ``no-store``, no ``Vary`` on ``*``, ``Cookie`` or ``Authorization`` (it differs per
  visitor).  ``no-cache`` does not refuse: TurboGears sends it on every response, for
  browsers to revalidate, and these caches sit inside the application (the origin), which
  is what a browser revalidates with (RFC 9111, 5.2.2.4; Django's ``cache_page`` decides
  the same);
* the page did not read the visitor's session.

Each function returns why a response is refused (a short sentence, for logs and for
developers), or None when it may be shared.
"""

_PRIVATE_DIRECTIVES = ("private", "no-store")
_PER_VISITOR_VARY = ("*", "cookie", "authorization")


def visitor(environ):
    """The authenticated visitor of the request (the user id), or None when anonymous."""
    identity = environ.get("repoze.who.identity")
    if identity:
        return str(identity.get("repoze.who.userid") or identity.get("user") or identity)
    return environ.get("REMOTE_USER") or None


def request_refusal(environ, per_user=False):
    """Why a response to this request may not be shared, or None.  ``per_user``: the cache
    keys its entries by :func:`visitor`, so an authenticated request is no reason."""
    method = environ.get("REQUEST_METHOD")
    if method not in ("GET", "HEAD"):
        return "a %s request" % method
    user = visitor(environ)
    if per_user and user is not None:
        return None
    if user is not None:
        return "an authenticated request (the page may be made for %s)" % user
    if environ.get("HTTP_AUTHORIZATION"):
        return "the request carries credentials (Authorization)"
    return None


def response_refusal(environ, status, headers, session_used=False, per_user=False):
    """Why this response may not be stored for other visitors, or None."""
    refused = request_refusal(environ, per_user)
    if refused:
        return refused
    if environ.get("REQUEST_METHOD") != "GET":
        return "a HEAD response has no body to store"
    if not status.startswith("200 "):
        return "status %s" % status
    for name, value in headers:
        name = name.lower()
        if name == "set-cookie":
            return "it sets a cookie"
        if name == "cache-control":
            directives = {d.split("=", 1)[0].strip().lower() for d in value.split(",")}
            for directive in _PRIVATE_DIRECTIVES:
                if directive in directives:
                    return "Cache-Control: %s" % directive
        if name == "vary":
            for field in (f.strip().lower() for f in value.split(",")):
                if field in _PER_VISITOR_VARY:
                    return "Vary: %s" % field
    if session_used:
        return "it read the visitor's session"
    return None


def watch_session():
    """Put a session that tells whether it was used into this request's ``tg.session``.

    TurboGears itself reads the session on every request (the i18n language), so the
    session object cannot tell; this wrapper, in ``tg.session`` until the request ends,
    can.  The session application wrapper keeps the real one and saves it as usual.
    Returns the watcher (the same one for every cache that asks), or None without sessions.
    """
    import tg

    context = tg.request_local.context._current_obj()
    session = getattr(context, "session", None)
    if session is None:
        return None
    if not isinstance(session, WatchedSession):
        session = context.session = WatchedSession(session)
    return session


class WatchedSession:
    """A session that remembers being used; everything goes to the real one."""

    def __init__(self, session):
        object.__setattr__(self, "_real", session)
        object.__setattr__(self, "used", False)

    def _touch(self):
        object.__setattr__(self, "used", True)
        return self._real

    def __getattr__(self, name):
        return getattr(self._touch(), name)

    def __setattr__(self, name, value):
        setattr(self._touch(), name, value)

    def __getitem__(self, key):
        return self._touch()[key]

    def __setitem__(self, key, value):
        self._touch()[key] = value

    def __delitem__(self, key):
        del self._touch()[key]

    def __contains__(self, key):
        return key in self._touch()

    def __iter__(self):
        return iter(self._touch())

    def __len__(self):
        return len(self._touch())

    def __bool__(self):
        return True
