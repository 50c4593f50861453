"""Threads for the tests: calls made at the same moment, and calls repeated in the background.

An exception in a thread is raised in the test's own thread: a thread that fails must fail
the test, not just print a traceback and leave fewer results behind.
"""
import contextlib
import threading
import types


def at_once(count, function):
    """Call ``function(index)`` in ``count`` threads (index 0 to count - 1), released together
    so that their calls meet: the results, in the order of the indexes.

    The first exception a thread raised is raised here, once every thread has finished."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def call(index):
        try:
            barrier.wait(timeout=60)
            results[index] = function(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@contextlib.contextmanager
def repeatedly(function, threads=1):
    """Call ``function(index)`` again and again in each of ``threads`` threads (index 0 to
    threads - 1) while the block runs.

    Yields a namespace whose ``calls``, once the block has ended, says how many calls were
    completed.  A thread stops at its first exception, which is raised when the block ends."""
    stop = threading.Event()
    counts, errors = [0] * threads, []

    def loop(index):
        try:
            while not stop.is_set():
                function(index)
                counts[index] += 1
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=loop, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    done = types.SimpleNamespace(calls=0)
    try:
        yield done
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    done.calls = sum(counts)
    if errors:
        raise errors[0]

