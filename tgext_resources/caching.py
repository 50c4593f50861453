"""Cache regions on Beaker, and operations that survive a cache backend that is down.

Regions are configured with Beaker's own keys (parsed in settings.py; ``cache.`` works as
well as ``beaker.cache.``, as for Beaker and TurboGears)::

    beaker.cache.regions = pages, fragments
    beaker.cache.pages.type = memory
    beaker.cache.pages.expire = 300
    beaker.cache.fragments.type = ext:redis
    beaker.cache.fragments.url = redis://127.0.0.1:6379/0

Without any, one region called ``default`` keeps entries in memory.  Every operation
here catches what a backend raises (a refused connection, a timeout, a server gone in the
middle of a request), logs a warning and behaves as a cache miss: a dead cache means an
uncached page, never an error page.

Creation locks (many concurrent misses of one key computing it once) are Beaker's: a
thread lock for ``memory`` (per process), file locks in ``lock_dir`` for ``file``,
``dbm`` and ``ext:memcached`` (per machine), and a lock held in Redis for ``ext:redis``
(across machines).
"""
import logging
import threading
import time
import uuid

from .errors import ConfigError

log = logging.getLogger(__name__)

MISSING = object()
_WARNING_EVERY = 60.0  # seconds between two warnings about the same broken region


class Region:
    """One configured region: a Beaker cache per namespace, made on first use."""

    def __init__(self, settings, timeout):
        self.settings = settings
        self.timeout = timeout
        self._caches = {}
        self._lock = threading.Lock()
        self._last_warning = 0.0
        self._memcached = None  # the client, to see servers it gave up on
        # Beaker keys its stores by namespace alone, and its memory store is one dict for the
        # whole process: an application's own mark keeps two applications of one process
        # apart.  Other backends are shared on purpose (every process of the application,
        # on one machine or many), so they are keyed by the region's name alone.
        self._scope = "%s:" % uuid.uuid4().hex[:12] if settings.type == "memory" else ""

    def _namespace_arguments(self):
        s = self.settings
        if s.type == "ext:redis":
            import redis

            # Beaker takes a ready client: one with timeouts, so a hung server costs a
            # fraction of a second per request instead of a stuck worker.
            client = redis.StrictRedis.from_url(s.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout)
            return {"url": client}
        if s.type == "ext:memcached":
            import memcache
            from beaker.ext.memcached import MemcachedNamespaceManager

            self._memcached = MemcachedNamespaceManager.clients.get(
                ("memcache", s.url), lambda: memcache.Client(s.url.split(";"), socket_timeout=self.timeout, dead_retry=5))
            return {"url": s.url, "memcache_module": "memcache", "lock_dir": s.lock_dir}
        if s.type in ("file", "dbm"):
            return {"data_dir": s.data_dir, "lock_dir": s.lock_dir}
        return {}

    def cache(self, namespace):
        try:
            return self._caches[namespace]
        except KeyError:
            pass
        from beaker.cache import Cache

        with self._lock:
            if namespace not in self._caches:
                self._caches[namespace] = Cache(
                    "%s%s:%s" % (self._scope, self.settings.name, namespace), type=self.settings.type,
                    expire=self.settings.expire, **self._namespace_arguments())
            return self._caches[namespace]

    def check(self, action):
        """Warn about backends that fail without raising: python-memcached answers "not
        found" for a server it cannot reach, and marks that server dead for a while."""
        if self._memcached is None:
            return
        now = time.time()
        dead = [str(server) for server in getattr(self._memcached, "servers", ()) if getattr(server, "deaduntil", 0) > now]
        if dead:
            self.warn(action, ConnectionError("memcached server unreachable: %s" % ", ".join(dead)))

    def warn(self, action, exc):
        now = time.monotonic()
        if now - self._last_warning >= _WARNING_EVERY:
            self._last_warning = now
            log.warning(
                "Cache region %r (%s) failed to %s: %s: %s; serving uncached (next warning in %d s at most)",
                self.settings.name, self.settings.type, action, type(exc).__name__, exc, _WARNING_EVERY,
            )


class CacheStore:
    """The regions of an application, with operations that never raise for a backend failure."""

    def __init__(self, settings):
        self.settings = settings
        self.regions = {r.name: Region(r, settings.timeout) for r in settings.regions}

    def region(self, name):
        name = name or self.settings.default_region
        try:
            return self.regions[name]
        except KeyError:
            raise ConfigError(
                "region", name, "no such cache region; configured: %s (beaker.cache.regions)" % ", ".join(self.regions)
            ) from None

    def get(self, region, namespace, key):
        """The value stored under ``key``, or MISSING (absent, expired, or backend down).

        Read straight from Beaker's namespace, as its own ``Cache.get`` stores it (a
        ``(stored, expire, value)`` tuple): one round trip to a network backend instead of
        Beaker's two ("exists?", then "get").
        """
        region = self.region(region)
        try:
            manager = region.cache(namespace).namespace
            manager.acquire_read_lock()
            try:
                stored = manager[key.encode("ascii", "backslashreplace")]
            finally:
                manager.release_read_lock()
        except KeyError:
            stored = None
        except Exception as exc:
            region.warn("read %s" % namespace, exc)
            return MISSING
        if stored is None:  # python-memcached answers None for a missing key (and a dead server)
            region.check("read %s" % namespace)
            return MISSING
        stored_at, expire, value = stored
        if expire is not None and time.time() >= stored_at + expire:
            return MISSING
        return value

    def put(self, region, namespace, key, value, expire=None):
        """Store ``value`` under ``key`` for ``expire`` seconds (default: the region's), in
        the form Beaker's ``Cache.put`` writes, straight to its namespace."""
        region = self.region(region)
        try:
            cache = region.cache(namespace)
            expire = expire or cache.expiretime
            manager = cache.namespace
            manager.acquire_write_lock()
            try:
                manager.set_value(key.encode("ascii", "backslashreplace"), (time.time(), expire, value), expiretime=expire)
            finally:
                manager.release_write_lock()
            return True
        except Exception as exc:
            region.warn("store %s" % namespace, exc)
            return False

    def remove(self, region, namespace, key):
        region = self.region(region)
        try:
            region.cache(namespace).remove_value(key)
        except KeyError:
            pass
        except Exception as exc:
            region.warn("remove from %s" % namespace, exc)

    def get_or_create(self, region, namespace, key, create, expire=None):
        """The cached value, or ``create()`` stored: one creator at a time (Beaker's lock)."""
        region = self.region(region)
        created = []

        def creating():
            created.append(create())
            return created[-1]

        try:
            cache = region.cache(namespace)
            if expire:
                return cache.get(key, createfunc=creating, expiretime=expire)
            return cache.get(key, createfunc=creating)
        except Exception as exc:
            region.warn("read or store %s" % namespace, exc)
            return created[-1] if created else create()  # never computed twice for one call
        finally:
            if created:
                region.check("store %s" % namespace)

    def acquire(self, region, namespace, key):
        """Take the creation lock of ``key``.  Returns what releases it (a no-op when the
        backend cannot give a lock: the page is then made without one), and whether this
        had to wait for another holder (then the value may be there now)."""
        region = self.region(region)
        waited = False
        try:
            lock = region.cache(namespace).namespace.get_creation_lock(key)
            if not lock.acquire(False):
                waited = True
                lock.acquire(True)
        except Exception as exc:
            region.warn("lock %s" % namespace, exc)
            return (lambda: None), True

        def release():
            try:
                lock.release()
            except Exception as exc:
                region.warn("unlock %s" % namespace, exc)

        return release, waited
