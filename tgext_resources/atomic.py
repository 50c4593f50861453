"""Writing files that a web server may be reading at the same moment."""
import os
import tempfile


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` so that a reader sees the old file or the new one, whole.

    The bytes go to a temporary file in the same directory (so the rename never crosses
    file systems), are flushed to disk, then ``os.replace`` puts the file in place.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600: the front server must read it
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
