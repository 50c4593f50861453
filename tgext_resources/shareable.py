"""The one rule for whether a response may be stored and shown to other visitors.

Both shared caches use it: the page cache (``cached_template``) and the filesystem cache
(``fs_cached``).  A response is kept for everyone only when nothing says it belongs to one
visitor or one request, as HTTP caches decide (RFC 9111, 3 and 5.2.2):

* the request: only GET (HEAD is answered from a cache, never stored: it has no body);
  no authenticated visitor (``repoze.who.identity``, which TurboGears' ``request.identity``
  comes from, or ``REMOTE_USER``) and no ``Authorization`` header, unless the cache keys
  its entries by that visitor (``cached_template(per_user=True)``);
* the response: status 200, no ``Set-Cookie``, no ``Cache-Control: private`` or
  ``no-store``, and no ``Vary`` on a request header the cache does not key by (the page
  cache keys by ``Accept`` and ``Accept-Language``; the filesystem cache by nothing, since
  the front server sends its files to every request); ``Vary: Accept-Encoding`` is no
  reason when the body is not encoded.  ``no-cache`` does not refuse: TurboGears sends it on every response, for
  browsers to revalidate, and these caches sit inside the application (the origin), which
  is what a browser revalidates with (RFC 9111, 5.2.2.4; Django's ``cache_page`` decides
  the same);
* the page did not read the visitor's session, in the controller, its template or the
  controller's ``_before`` (:class:`SessionWatch` watches every request from the start).

Each function returns why a response is refused (a short sentence, for logs and for
developers), or None when it may be shared.
"""

_PRIVATE_DIRECTIVES = ("private", "no-store")
#: The request headers the page cache's key covers (pagekeys.py: response type, language).
PAGE_KEY_HEADERS = ("accept", "accept-language")


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


def response_refusal(environ, status, headers, session_used=False, per_user=False, keyed=()):
    """Why this response may not be stored for other visitors, or None.  ``keyed``: the
    request headers (lower case) the cache keys its entries by."""
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
                if field and field not in keyed and not (field == "accept-encoding" and not _encoded(headers)):
                    return "Vary: %s" % field
    if session_used:
        return "it read the visitor's session"
    return None


def _encoded(headers):
    return any(n.lower() == "content-encoding" and v.strip().lower() not in ("", "identity") for n, v in headers)


class SessionWatch:
    """TurboGears application wrapper, innermost: every request's ``tg.session`` is a
    :class:`WatchedSession` before the controller's ``_before`` runs, so a page built from
    the session there is seen too.  (TurboGears' own reads, the language, happen earlier,
    in its wrappers, and do not count.)"""

    def __init__(self, handler, config):
        self.next_handler = handler

    injected = True

    def __call__(self, controller, environ, context):
        watch_session(context)
        return self.next_handler(controller, environ, context)


def watch_session(context=None):
    """Put a session that tells whether it was used into this request's ``tg.session``.

    TurboGears itself reads the session on every request (the i18n language), so the
    session object cannot tell; this wrapper, in ``tg.session`` until the request ends,
    can.  The session application wrapper keeps the real one and saves it as usual.
    Returns the watcher (the same one for every cache that asks), or None without sessions.
    """
    if context is None:
        import tg

        context = tg.request_local.context._current_obj()
    session = getattr(context, "session", None)
    if session is None or not isinstance(session, (_beaker_session(), WatchedSession)):
        return None  # no sessions, or minimal mode's stand-in that refuses every use
    if not isinstance(session, WatchedSession):
        session = context.session = WatchedSession(session)
    return session


def _beaker_session():
    from beaker.session import SessionObject  # what TurboGears' session wrapper puts there

    return SessionObject


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
