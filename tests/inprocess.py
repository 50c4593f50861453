"""A real waitress server in the test's own process, and raw HTTP/1.1 on one connection.

For what only a real server shows: how a response is framed (Content-Length or chunked),
what reaches the wire when the application's headers and body disagree, and whether the
next request pipelined on the same connection is answered.
"""
import contextlib
import socket
import threading

from waitress.server import create_server


@contextlib.contextmanager
def waitress_serving(app):
    """Serve WSGI ``app`` with waitress on a free local port: yields ``(host, port)``."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="waitress")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.effective_port
    finally:
        # Closed from the server's own loop (a socket closed under it from this thread
        # makes its poll fail): with nothing left to watch, the loop returns.
        server.trigger.pull_trigger(lambda: [channel.close() for channel in list(server._map.values())])
        thread.join(timeout=30)
        server.task_dispatcher.shutdown()


def send_raw(address, wire, timeout=10):
    """Send the bytes ``wire`` to ``(host, port)`` and return all the server sends back
    until it closes the connection."""
    with socket.create_connection(address, timeout=timeout) as connection:
        connection.sendall(wire)
        data = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return data
            data += chunk


def address_of(base):
    """``(host, port)`` of a base URL ``http://host:port``."""
    host, port = base[len("http://"):].split(":")
    return host, int(port)


def exchange(address, requests, timeout=10):
    """Send ``requests`` (each ``(method, path, {header: value})``) pipelined on one
    connection, the last one closing it; return ``(responses, rest)``: each response as
    ``(status code, {lower-case header: value}, body)``, and any bytes left after them."""
    wire = b""
    for index, (method, path, headers) in enumerate(requests):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%s" % address]
        lines += ["%s: %s" % item for item in headers.items()]
        if index == len(requests) - 1:
            lines.append("Connection: close")
        wire += ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    data = send_raw(address, wire, timeout)
    responses = []
    for method, _, _ in requests:
        response, data = _parse_one(data, method)
        responses.append(response)
    return responses, data


def _parse_one(data, method):
    head, separator, data = data.partition(b"\r\n\r\n")
    if not separator:
        raise AssertionError("no complete response head in %r" % head[:200])
    status_line, *lines = head.decode("latin-1").split("\r\n")
    protocol, _, rest = status_line.partition(" ")
    if not protocol.startswith("HTTP/1."):
        raise AssertionError("not a response: %r" % status_line)
    status = int(rest[:3])
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if method == "HEAD" or status in (204, 304) or status < 200:
        return (status, headers, body), data  # RFC 9112, 6.3: no content, whatever the headers say
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                _, _, data = data.partition(b"\r\n")
                return (status, headers, body), data
            body, data = body + data[:size], data[size + 2:]
    if "content-length" in headers:
        length = int(headers["content-length"])
        if len(data) < length:
            raise AssertionError("body cut short: %d of %d bytes" % (len(data), length))
        return (status, headers, data[:length]), data[length:]
    return (status, headers, data), b""  # delimited by the end of the connection
