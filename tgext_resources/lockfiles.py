"""Lock files across fork(): the descriptors a process holds open, and its thread locks.

A child made by fork() (gunicorn's workers of a preloaded application, a daemon) inherits
every open descriptor, and every thread lock as it was, but none of the threads that held
them: a copy left open would hold its ``flock`` for as long as the child lives, and a
thread lock held at that moment would be held for ever.  So the lock files of the
filesystem cache are opened through here, and a child closes its copies at once (the
parent's lock stays the parent's), and objects with thread locks make them anew.
"""
import contextlib
import os
import threading
import weakref

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, nothing to release
    fcntl = None

# The lock files this process has open: process-wide, as descriptors are.
_OPEN = set()
_OPEN_GUARD = threading.Lock()


def open_lock(directory, name):
    """Open lock file ``name`` of ``directory`` (made again if it was removed by hand)."""
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:  # the whole cache directory was emptied by hand
        os.makedirs(directory, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with _OPEN_GUARD:
        _OPEN.add(fd)
    return fd


def close_lock(fd):
    """Unlock and close: unlocked first, as a child forked meanwhile may share the open file."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    with _OPEN_GUARD:
        _OPEN.discard(fd)
    os.close(fd)


def _close_inherited():
    global _OPEN_GUARD
    _OPEN_GUARD = threading.Lock()
    for fd in _OPEN:
        with contextlib.suppress(OSError):
            os.close(fd)
    _OPEN.clear()


def after_fork(method):
    """Call bound ``method`` in every child forked from now on, while its object lives
    (to make its thread locks anew: one held by a thread of the parent stays held)."""
    reference = weakref.WeakMethod(method)

    def call():
        alive = reference()
        if alive is not None:
            alive()

    os.register_at_fork(after_in_child=call)


os.register_at_fork(after_in_child=_close_inherited)
