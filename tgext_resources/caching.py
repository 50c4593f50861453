"""Cache regions, and operations that survive a cache backend that is down or hung.

Regions are configured with Beaker's own keys (parsed in settings.py; ``cache.`` works as
well as ``beaker.cache.``, as for Beaker and TurboGears)::

    beaker.cache.regions = pages, fragments
    beaker.cache.pages.type = memory
    beaker.cache.pages.expire = 300
    beaker.cache.fragments.type = ext:redis
    beaker.cache.fragments.url = redis://127.0.0.1:6379/0

Without any, one region called ``default`` keeps entries in memory.  A ``memory`` region is
a bounded store of its application (memory.py); the other backends are Beaker's namespace
managers, so entries keep Beaker's format and every process sharing a server shares them.

Every operation here catches what a backend raises (a refused connection, a timeout, a
server gone in the middle of a request) and behaves as a miss: a dead cache means an
uncached page, never an error page.  After a failure the region's server is left alone for
``resources.cache_retry`` seconds (operations answer "miss" at once, one warning per
outage), then one request tries it again: a hung server costs one timeout, not one per
fragment of every page.  Creation locks are in locks.py.
"""
import logging
import os
import tempfile
import threading
import time

from .clients import memcached_client, memcached_dead, redis_client
from .errors import ConfigError
from .locks import FileLock, KeyLocks, RedisLock
from .memory import MemoryStore

log = logging.getLogger(__name__)

MISSING = object()
_WARNING_EVERY = 60.0  # seconds between two warnings of one kind about one region


def _nothing():
    """The release of a lock that was not taken."""


class Region:
    """One configured region: its backend, whether that backend is up, its creation locks."""

    def __init__(self, settings, cache_settings):
        self.settings = settings
        self.timeout = cache_settings.timeout
        self.retry = cache_settings.retry
        self.render_timeout = cache_settings.render_timeout
        self.memory = MemoryStore(cache_settings.max_entries) if settings.type == "memory" else None
        self._managers = {}  # namespace -> Beaker namespace manager
        self._client = None
        self._threads = KeyLocks()
        self._lock = threading.Lock()
        self._down_until = 0.0  # time.monotonic() before which the backend is not asked
        self._down = False
        self._warned = {}

    # -- the backend
    def client(self):
        """The Redis or memcached client of this region (of this application: not Beaker's
        process-wide one, which has no timeout)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    s = self.settings
                    self._client = (redis_client(s.url, self.timeout) if s.type == "ext:redis"
                                    else memcached_client(s.url, self.timeout, self.retry))
        return self._client

    def manager(self, namespace):
        try:
            return self._managers[namespace]
        except KeyError:
            pass
        from beaker.cache import clsmap

        s = self.settings
        name = "%s:%s" % (s.name, namespace)  # as before: entries of earlier versions stay readable
        if s.type == "ext:redis":
            manager = clsmap[s.type](name, url=self.client())
        elif s.type == "ext:memcached":
            manager = clsmap[s.type](name, url=s.url, memcache_module="memcache")
            manager.mc = self.client()
        else:
            manager = clsmap[s.type](name, data_dir=s.data_dir, lock_dir=s.lock_dir)
        return self._managers.setdefault(namespace, manager)

    def read(self, namespace, key):
        """The value, or MISSING; raises what the backend raises."""
        if self.memory is not None:
            try:
                return self.memory.get(namespace, key)
            except KeyError:
                return MISSING
        manager = self.manager(namespace)
        manager.acquire_read_lock()
        try:
            # Straight from the namespace, as Beaker's Cache.get stores it: one round trip, not two.
            stored = manager[key.encode("ascii", "backslashreplace")]
        except KeyError:
            stored = None
        finally:
            manager.release_read_lock()
        if stored is None:  # python-memcached answers None for a missing key and a dead server
            self._memcached_up()
            return MISSING
        stored_at, expire, value = stored
        return MISSING if expire is not None and time.time() >= stored_at + expire else value

    def write(self, namespace, key, value, expire):
        expire = expire or self.settings.expire
        if self.memory is not None:
            return self.memory.put(namespace, key, value, expire)
        manager = self.manager(namespace)
        manager.acquire_write_lock()
        try:
            manager.set_value(key.encode("ascii", "backslashreplace"), (time.time(), expire, value), expiretime=expire)
        finally:
            manager.release_write_lock()
        self._memcached_up()

    def delete(self, namespace, key):
        if self.memory is not None:
            return self.memory.remove(namespace, key)
        manager = self.manager(namespace)
        manager.acquire_write_lock()
        try:
            del manager[key.encode("ascii", "backslashreplace")]
        except KeyError:
            pass
        finally:
            manager.release_write_lock()
        self._memcached_up()

    def _memcached_up(self):
        """Raise when every memcached server is marked dead (python-memcached does not raise)."""
        if self.settings.type != "ext:memcached":
            return
        dead, count = memcached_dead(self.client())
        if dead and len(dead) == count:
            raise ConnectionError("memcached server unreachable: %s" % ", ".join(dead))
        if dead:  # the others take its keys meanwhile
            self.warn("partial", "Cache region %r: memcached server unreachable: %s", self.settings.name, ", ".join(dead))

    # -- whether the backend is up (a circuit breaker)
    def admit(self):
        """False while the backend is left alone after a failure; past ``retry`` seconds,
        True for one caller, whose operation tells whether it is back (a lock is no such
        test: for memcached it is a file; lock() only looks whether the region is down)."""
        if not self._down_until:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._down_until:
                return False
            self._down_until = now + self.retry  # the others skip it while this one tries
            return True

    def failed(self, action, exc):
        self._down_until = time.monotonic() + self.retry if self.retry else 0.0
        if self._down:
            log.debug("Cache region %r still failing to %s: %s", self.settings.name, action, exc)
            return
        self._down = True
        self.warn(
            "down", "Cache region %r (%s) failed to %s: %s: %s; serving uncached without asking it for %s s "
            "(resources.cache_retry)", self.settings.name, self.settings.type, action, type(exc).__name__, exc,
            self.retry)

    def answered(self):
        if self._down:
            self._down, self._down_until = False, 0.0
            log.info("Cache region %r (%s) answers again", self.settings.name, self.settings.type)

    def warn(self, kind, message, *args):
        now = time.monotonic()
        if now - self._warned.get(kind, -_WARNING_EVERY) >= _WARNING_EVERY:
            self._warned[kind] = now
            log.warning(message + " (next such warning in %d s at most)", *(args + (_WARNING_EVERY,)))

    # -- creation locks
    def lock(self, namespace, key):
        """``(release, waited)``: see CacheStore.acquire."""
        if time.monotonic() < self._down_until:
            return _nothing, False  # nothing will be stored: every request makes its own page
        name = (namespace, key)
        deadline = time.monotonic() + self.render_timeout
        held, waited = self._threads.acquire(name, self.render_timeout)
        if not held:
            if waited:
                self._gave_up(namespace)
            return _nothing, waited
        try:
            shared = self._shared_lock(namespace, key)
            held, shared_waited = shared.acquire(deadline) if shared is not None else (True, False)
        except Exception as exc:
            self._threads.release(name)
            self.failed("lock %s" % namespace, exc)
            return _nothing, False
        if not held:
            self._threads.release(name)
            self._gave_up(namespace)
            return _nothing, True

        def release():
            try:
                if shared is not None:
                    shared.release()
            except Exception as exc:
                self.failed("unlock %s" % namespace, exc)
            finally:
                self._threads.release(name)

        return release, waited or shared_waited

    def _shared_lock(self, namespace, key):
        s = self.settings
        if s.type == "ext:redis":
            # Beaker's lock key: a process of an earlier version and this one exclude each other.
            name = "beaker_lock:" + self.manager(namespace)._format_key(key.encode("ascii", "backslashreplace"))
            return RedisLock(self.client(), name, self.render_timeout)
        if s.type != "memory" and FileLock.available:
            directory = s.lock_dir or os.path.join(tempfile.gettempdir(), "tgext_resources-locks")
            return FileLock(directory, "%s:%s/%s" % (s.name, namespace, key))
        return None

    def _gave_up(self, namespace):
        self.warn(
            "lock", "Cache region %r: waited %s s (resources.render_timeout) for another request making an entry "
            "of %s; making it again here", self.settings.name, self.render_timeout, namespace)


class CacheStore:
    """The regions of an application, with operations that never raise for a backend failure."""

    def __init__(self, settings):
        self.settings = settings
        self.regions = {r.name: Region(r, settings) for r in settings.regions}

    def region(self, name):
        name = name or self.settings.default_region
        try:
            return self.regions[name]
        except KeyError:
            raise ConfigError(
                "region", name, "no such cache region; configured: %s (beaker.cache.regions)" % ", ".join(self.regions)
            ) from None

    def _attempt(self, region, action, operation, *args):
        """``operation(*args)``, or MISSING when the backend is down or fails now."""
        if not region.admit():
            return MISSING
        try:
            result = operation(*args)
        except Exception as exc:
            region.failed(action, exc)
            return MISSING
        region.answered()
        return result

    def get(self, region, namespace, key):
        """The value stored under ``key``, or MISSING (absent, expired, or backend down)."""
        region = self.region(region)
        return self._attempt(region, "read %s" % namespace, region.read, namespace, key)

    def put(self, region, namespace, key, value, expire=None):
        """Store ``value`` under ``key`` for ``expire`` seconds (default: the region's)."""
        region = self.region(region)
        return self._attempt(region, "store %s" % namespace, region.write, namespace, key, value, expire) is not MISSING

    def remove(self, region, namespace, key):
        region = self.region(region)
        self._attempt(region, "remove from %s" % namespace, region.delete, namespace, key)

    def get_or_create(self, region, namespace, key, create, expire=None):
        """``(value, stored)``: the cached value and None, or ``create()`` (one creator at a
        time per key; what it raises is raised) and whether it could be stored."""
        value = self.get(region, namespace, key)
        if value is not MISSING:
            return value, None
        release, waited = self.acquire(region, namespace, key)
        try:
            # Again, even without waiting: another request may have stored it since the read.
            value = self.get(region, namespace, key)
            if value is MISSING:
                value = create()
                return value, self.put(region, namespace, key, value, expire)
            return value, None
        finally:
            release()

    def acquire(self, region, namespace, key):
        """Take the creation lock of ``key``.  Returns what releases it and whether this had
        to wait for another holder (then the value may be there now).  Without a lock (the
        backend is down, or another request held it past ``resources.render_timeout``) the
        release is a no-op and the caller makes the value itself."""
        return self.region(region).lock(namespace, key)
