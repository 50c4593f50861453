"""Whether a file described earlier may have changed since, without a system call per file.

Revalidations (``If-None-Match``, ``If-Modified-Since``) are the most frequent requests for
resources, and the cheapest to answer: but a 304 must never confirm a tag that names other
bytes than the file's.  Looking at the file (a ``stat``) for each of them costs more than all
the rest of the answer.  So the files served are watched with Linux's inotify, which the
kernel informs from the very system call that changes a file, before that call returns:

* :meth:`FileWatch.epoch` asks the kernel whether anything watched changed (one
  ``epoll_wait`` that does not wait, whatever the number of files) and counts the times
  something did;
* a file looked at (``stat``) after :meth:`FileWatch.watch` succeeded, in the epoch
  ``epoch()`` returned before, is unchanged for as long as the epoch is the same.

What is watched for each file: the file itself (written through any of its names), its
directory (replaced, renamed, deleted) and every directory above it, up to the root (one of
them renamed or replaced puts other files behind the same name).  Any event counts, without
reading which file it is about: a change is rare, and it only costs one ``stat`` per file
served afterwards.  Paths that go through symbolic links are not watched (a link pointed
elsewhere changes nothing the kernel reports here): their files are looked at each time, as
they are where inotify is missing (another system, the limit of watches reached).  Changes
made by another machine to a network file system reach no inotify either: serve resources
from local disks.

One watch for the whole process, like the version tokens (versioning.py): what a file
contains is the same for every application, and the number of inotify instances a user
may open is small (128 by default).
"""
import ctypes
import os
import select
import threading

from .lockfiles import after_fork

# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_DONT_FOLLOW, _IN_MASK_ADD = 0x02000000, 0x20000000
#: A file: its bytes, its dates (an mtime put back still changes Last-Modified), itself gone.
FILE = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_DELETE_SELF | _IN_MOVE_SELF
#: Its directory: every name in it created, replaced, renamed or removed, and itself.
DIRECTORY = FILE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
#: The directories above: only themselves renamed or removed (their other entries are not ours).
ABOVE = _IN_DELETE_SELF | _IN_MOVE_SELF


def watch_list(paths):
    """What to watch so that any change to the files ``paths`` (one directory's; absolute,
    no symbolic link on the way) is reported: ``((path, mask), ...)``."""
    directory = os.path.dirname(paths[0])
    watched = [(path, FILE) for path in paths] + [(directory, DIRECTORY)]
    while True:
        parent = os.path.dirname(directory)
        if parent == directory:
            return tuple(watched)
        directory = parent
        watched.append((directory, ABOVE))


class FileWatch:
    """An inotify instance and the count of the times it reported something (see the module)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._fd = self._poll = self._epoll = None
        self._started = False
        self._epoch = 0
        self._watched = (0, set())  # (epoch, what was watched in it): not to watch it twice
        self._add_watch = None
        after_fork(self._after_fork)

    def epoch(self):
        """The current epoch, or None when nothing can be watched (every file is looked at)."""
        poll = self._poll
        if poll is None:
            return None if self._started else self._start()
        # epoll, not poll: select.poll objects refuse two threads at once; one event is
        # enough to know.
        if poll(0, 1):
            with self._lock:
                if self._poll(0, 1):
                    # Counted before the events are read: a thread that finds none left
                    # then finds the new epoch too.  And again after: an event the drain read
                    # may be of a change made after such a thread looked at its file.
                    self._epoch += 1
                    self._drain()
                    self._epoch += 1
        return self._epoch

    def watch(self, watched, epoch):
        """Watch ``watched`` (see :func:`watch_list`); False when some of it cannot be."""
        done_epoch, done = self._watched
        if done_epoch != epoch:
            # Watches vanish with what they watched (an event, thus a new epoch): the ones
            # of an earlier epoch are added again.
            done = set()
            self._watched = (epoch, done)
        fd = self._fd
        for item in watched:
            if item in done:
                continue
            path, mask = item
            if fd is None or self._add_watch(fd, os.fsencode(path), mask | _IN_MASK_ADD | _IN_DONT_FOLLOW) < 0:
                return False  # no such path any more, no permission, or the limit reached
            done.add(item)
        return True

    def _start(self):
        with self._lock:
            if not self._started:
                self._started = True
                self._open()
        return self._epoch if self._poll is not None else None

    def _open(self):
        try:
            # The symbols the process already has: on Linux, the C library's.
            libc = ctypes.CDLL(None, use_errno=True)
            init, add_watch = libc.inotify_init1, libc.inotify_add_watch
        except (OSError, AttributeError, TypeError):  # not Linux
            return
        add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:  # the user's instances are all taken
            return
        self._epoll = select.epoll()
        self._epoll.register(fd, select.EPOLLIN)
        self._fd, self._add_watch, self._poll = fd, add_watch, self._epoll.poll

    def _drain(self):
        while True:
            try:
                if not os.read(self._fd, 65536):
                    return
            except BlockingIOError:
                return

    def _after_fork(self):
        # A descriptor inherited from the parent shares its queue: events the parent reads,
        # the child would never see.  The child starts a watch of its own, from a new epoch.
        self._lock = threading.Lock()
        if self._fd is not None:
            self._epoll.close()
            os.close(self._fd)
        self._fd = self._poll = self._epoll = None
        self._started = False
        self._epoch += 1
        self._watched = (self._epoch, set())


#: Shared by every application of the process: what files contain is the same for all.
WATCH = FileWatch()
