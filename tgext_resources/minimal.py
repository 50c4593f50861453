"""``minimal_mode = true``: switch off the TurboGears components that cost the most per request.

The keys are flipped before any component reads the configuration (error and
slow-request tracing copy their options at that moment), so the application needs no
change of code.  What a request loses, and what using it does instead of a confusing
``NoneType`` error:

==========================  ================================  ============================
switched off                TurboGears key                    using it in minimal mode
==========================  ================================  ============================
translations                ``i18n.enabled``                  ``_()`` returns its text
sessions                    ``session.enabled``               ``tg.session`` raises MinimalModeError
``tg.cache``                ``cache.enabled``                 ``tg.cache`` raises MinimalModeError
authentication, identity    ``sa_auth.enabled``,              ``request.identity`` is None
                            ``identity.enabled``
transaction manager         ``tm.enabled``                    unsaved changes raise MinimalModeError
custom error pages          ``errorpage.enabled``             plain error responses
seekable request bodies     ``make_body_seekable``            ``request.body`` read once
slow-request, error mails   ``trace_slowreqs.enable``,        nothing reported
                            ``trace_errors.enable``
static files (``public/``)  ``serve_static``                  404: the front server serves them
interactive debugger        ``debug``                         (and tw2 caches its templates)
template reloading          ``auto_reload_templates``         templates read once
==========================  ================================  ============================

Widget resources, bundles, caching and the filesystem cache keep working.
"""
import logging

from .errors import MinimalModeError

log = logging.getLogger(__name__)

SWITCHED_OFF = {
    "i18n.enabled": False,
    "session.enabled": False,
    "cache.enabled": False,
    "sa_auth.enabled": False,
    "identity.enabled": False,
    "tm.enabled": False,
    "errorpage.enabled": False,
    "make_body_seekable": False,
    "trace_slowreqs.enable": False,
    "trace_errors.enable": False,
    "serve_static": False,
    "debug": False,
    "auto_reload_templates": False,
}


def switch_off(conf):
    """Flip the components' keys in ``conf`` (a configuration not read by any component yet)."""
    conf.update(SWITCHED_OFF)
    log.info("Minimal mode is on: %s switched off (minimal_mode = true)", ", ".join(sorted(SWITCHED_OFF)))


class _SwitchedOff:
    """Stands for a feature minimal mode switched off: any use raises MinimalModeError."""

    def __init__(self, feature, key):
        object.__setattr__(self, "_message", (
            "%s is switched off by minimal_mode = true (%s = false): set minimal_mode = false "
            "in the [app:main] section of the .ini file to use it" % (feature, key)))

    def _fail(self, *args, **kwargs):
        raise MinimalModeError(self._message)

    __getattr__ = __setattr__ = __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __call__ = _fail

    def __bool__(self):
        return False  # "if tg.session:" still reads as "no session"


def wrapper_class(settings_key):
    """The application wrapper that stands in for what minimal mode switched off; it reads
    the application's parsed settings under ``settings_key`` of its configuration."""
    from tg.appwrappers.base import ApplicationWrapper

    class MinimalModeApplicationWrapper(ApplicationWrapper):
        """In minimal mode: ``tg.session`` and ``tg.cache`` that say what happened, and an
        error instead of changes silently lost without the transaction manager."""

        def __init__(self, handler, config):
            super().__init__(handler, config)
            settings = config.get(settings_key)
            self.enabled = settings is not None and settings.mode.minimal
            self.dbsession = config.get("DBSession") if config.get("use_sqlalchemy") else None
            if self.enabled and self.dbsession is not None:
                _watch_flushes(self.dbsession)

        @property
        def injected(self):
            return self.enabled

        def __call__(self, controller, environ, context):
            if getattr(context, "session", None) is None:
                context.session = _SwitchedOff("tg.session", "session.enabled")
            if getattr(context, "cache", None) is None:
                context.cache = _SwitchedOff("tg.cache", "cache.enabled")
            request = context.request
            if "webob.adhoc_attrs" not in request.environ or "identity" not in request.environ["webob.adhoc_attrs"]:
                request._fast_setattr("identity", None)  # anonymous, as TurboGears says it without identity
            response = self.next_handler(controller, environ, context)
            self._check_unsaved_changes()
            return response

        def _check_unsaved_changes(self):
            registry = getattr(self.dbsession, "registry", None)
            if registry is None or not registry.has():
                return
            session = self.dbsession()
            if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
                session.rollback()  # the next request on this thread starts clean
                raise MinimalModeError(
                    "this request changed the database, but the transaction manager is switched off by "
                    "minimal_mode = true (tm.enabled = false): call transaction.commit() in the "
                    "controller, or set minimal_mode = false"
                )

    return MinimalModeApplicationWrapper


# Set in a session's info between a flush and the end of its transaction: a flush empties
# session.new/dirty/deleted, yet nothing is saved until a commit.
_FLUSHED = "tgext_resources.flushed"


def _flushed(session, flush_context):
    session.info[_FLUSHED] = True


def _ended(session, transaction):
    if transaction.parent is None:  # the outermost one: committed, rolled back or closed
        session.info.pop(_FLUSHED, None)


def _watch_flushes(dbsession):
    """Track, on every session ``dbsession`` (a scoped_session or sessionmaker) makes,
    whether it flushed changes that no commit, rollback or close has ended yet
    (zope.sqlalchemy's ``transaction.abort()`` closes the session)."""
    from sqlalchemy import event

    target = getattr(dbsession, "session_factory", dbsession)  # the sessionmaker behind a scoped_session
    if not event.contains(target, "after_flush", _flushed):
        event.listen(target, "after_flush", _flushed)
        event.listen(target, "after_transaction_end", _ended)
