"""Trust report, probes: hostile resource paths and cache poisoning (the first two sections of
``trust``, alone: seconds, no server needed).

Prints figures and asserts nothing about them: it measures what the code does now.  Each
section builds a real TurboGears application and calls it in-process, as an HTTP server
would (WSGI, no sockets):

1. hostile paths against the resource publisher: a module whose ``static`` directory is
   registered, a SECRET file beside it and outside it, symbolic links out of it;
2. cache probes on ``cached_template`` pages: a poisoning request, then a clean visitor.
"""
import base64
import itertools
import logging
import os
import re
import tempfile
import time
from urllib.parse import unquote_to_bytes

import tw2.core as twc
import webob
from tg import expose, request, response, session, validate
from tg.validation import RequireValue

from tgext_resources import cached_template
from tgext_resources.versioning import VERSIONS

from tests import distributions
from tests.apps import RootController, build

SECRET = "SECRET-c0ffee-do-not-serve"
MARK = "zq7poison"  # lower case: hosts are compared in lower case
TEMPLATE = "tests.testsite.templates.cached"
REGIONS = itertools.count()


def send(app, path, method="GET", headers=None, environ=None, **kw):
    """One request to ``app`` as an HTTP server makes it: the path decoded once (PEP 3333), the
    body read whole, then closed (TurboGears ends its request context there; webob's
    ``get_response`` does not close it, and leaves the context on the thread)."""
    raw, _, query = path.partition("?")
    env = webob.Request.blank("/", method=method, headers=headers or {}, **kw).environ
    env.update(PATH_INFO=unquote_to_bytes(raw).decode("latin-1"), QUERY_STRING=query, REQUEST_URI=path)
    env.update(environ or {})
    started, chunks = [], []

    def start_response(status, headerlist, exc_info=None):
        started.append((status, headerlist))
        return chunks.append

    body = app(env, start_response)
    try:
        chunks.extend(body)
    finally:
        getattr(body, "close", lambda: None)()
    status, headerlist = started[-1]
    return webob.Response(body=b"".join(chunks), status=status, headerlist=list(headerlist))


def table(title, header, rows):
    print("\n" + title)
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def page(title):
    return dict(title=title, widgets=[], tick=lambda: 0, fragments=None)


# -- 1. hostile paths -----------------------------------------------------------------------

def install_module(root):
    """A module with a registered ``static`` directory, secrets beside it and links out of it."""
    name = distributions.unique("trustmod")
    distributions.install(root, name, {
        name + "/__init__.py": "SECRET = %r\n" % SECRET,
        name + "/secret.txt": SECRET,
        name + "/static/ok.js": "var ok = 1;\n",
        name + "/static/sub/ok.css": "body { color: red }\n",
        "outside/secret.txt": SECRET,
    })
    os.symlink(os.path.join(root, "outside", "secret.txt"), os.path.join(root, name, "static", "link.txt"))
    os.symlink(os.path.join(root, "outside"), os.path.join(root, name, "static", "linkdir"))
    twc.DirLink(modname=name, filename="static")
    return name


DOTS = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae",
        "%ef%bc%8e%ef%bc%8e", "%e2%80%a4%e2%80%a4", "...", "....", "..%00", "..;", "%u002e%u002e"]
SEPARATORS = ["/", "%2f", "%2F", "%5c", "%5C", "\\", "%252f", "%c0%af", "//", "/./"]


def hostile_paths(name):
    """``{family: [path, ...]}``: traversal variants, links, tokens and names, bytes, huge paths."""
    p, token, fake = "/tw2/resources/", VERSIONS.token(name), "v" + "0" * 12
    bases = [p + name + "/static/", p + name + "/%s/static/" % token, p + name + "/%s/static/" % fake,
             p + name + "/%s/" % token, p + name + "/"]
    targets = ["secret.txt", "__init__.py", "outside/secret.txt", name + "/secret.txt"]
    encodings = [base + (dots + sep) * depth + target for base in bases for dots in DOTS for sep in SEPARATORS
                 for depth in (1, 2, 3) for target in targets]
    links = [p + name + middle + tail for middle in ("/static/", "/%s/static/" % token, "/%s/static/" % fake,
                                                     "/STATIC/", "/static/./", "/static/sub/../")
             for tail in ("link.txt", "linkdir/secret.txt", "Link.txt", "linkdir/", "linkdir", "link.txt%00.js")]
    names = [p + n + "/" + f for n in (name, name.upper(), name + "%2fstatic", "%s.static" % name, "..", ".", "",
                                       "%2e%2e", name + "/" + token, name + "/" + token.upper(), name + "/" + fake)
             for f in ("secret.txt", "__init__.py", "static/../secret.txt", "static%2f..%2fsecret.txt",
                       "%s/../secret.txt" % token, "static/%s/../../secret.txt" % token, "static/ok.js")]
    names += ["/TW2/resources/%s/secret.txt" % name, p[:-1] + "%2f" + name + "/secret.txt",
              "/tw2/resources/../tw2/resources/%s/static/../secret.txt" % name]
    raw = [p + name + "/static/" + t for t in (
        "ok.js%00", "ok.js%00.png", "link.txt%00", "%00", "ok.js%00/../../secret.txt", "%ff%fe.js",
        "%c0%ae%c0%ae/secret.txt", "ok.js%0a", "ok.js%0d%0aX-Leak:%201", "ok.js;/../../secret.txt",
        "ok.js#/../../secret.txt", "ok.js?/../../secret.txt",
        "~/secret.txt", "%7e/../secret.txt", "C:/secret.txt", "c:%5csecret.txt", "//../secret.txt", "/etc/passwd")]
    deep = [p + name + "/static/" + "a/" * 50000 + "ok.js", p + name + "/static/" + "../" * 50000 + "secret.txt",
            p + name + "/static/" + "%2e%2e/" * 50000 + "secret.txt", p + name + "/static/" + "./" * 50000 + "ok.js",
            p + name + "/static/" + "/" * 50000 + "secret.txt", p + name + "/static/" + "x" * 100000,
            p + name + "/static/" + "link.txt/" * 50000, p + "a/" * 50000, p + name + "/" + token + "/" * 50000]
    return {"encodings of ../ (x depth x base)": encodings, "links out of static": links,
            "tokens, case, module names": names, "NUL, raw bytes, odd syntax": raw, "50,000 segments, 100 KB": deep}


def hostile_section(root):
    name = install_module(root)
    app = build().app
    control = send(app, "/tw2/resources/%s/static/ok.js" % name)
    rows, total, slowest = [], [0, 0, 0, 0, 0, 0.0], (0.0, "")
    for family, paths in hostile_paths(name).items():
        counts = [len(paths), 0, 0, 0, 0, 0.0]  # tried, refused, errors, leaked, served, worst ms
        for path in paths:
            start = time.perf_counter()
            try:
                answer = send(app, path)
                status, body = answer.status_int, answer.body
            except Exception:
                status, body = 500, b""
            ms = (time.perf_counter() - start) * 1000
            counts[5], slowest = max(counts[5], ms), max(slowest, (ms, path))
            counts[1] += 400 <= status < 500
            counts[2] += status >= 500
            counts[3] += SECRET.encode() in body
            counts[4] += status < 400
        rows.append([family] + counts[:5] + ["%.1f" % counts[5]])
        total = [a + b for a, b in zip(total[:5], counts[:5])] + [max(total[5], counts[5])]
    rows.append(["all"] + total[:5] + ["%.1f" % total[5]])
    table("1. Hostile paths on the resource publisher (control: the normal file answered %s)" % control.status,
          ["family", "tried", "refused 4xx", "errors 5xx", "leaked", "served <400", "worst ms"], rows)
    print("  slowest: %s... (%d characters, %.0f ms)" % (slowest[1][:60], len(slowest[1]), slowest[0]))


# -- 2. cache probes ------------------------------------------------------------------------

class ProbeRoot(RootController):
    @expose(TEMPLATE)
    @cached_template()
    def personal(self, how):
        """A shared page showing what its visitor sent (no part of its key), marked as ``how`` says."""
        if how == "cookie":
            response.set_cookie("visitor", "1")
        elif how in ("private", "no-store"):
            response.headers["Cache-Control"] = how
        elif how == "vary":
            response.headers["Vary"] = "Cookie"
        elif how == "status" and request.headers.get("X-Visitor") == MARK:
            response.status = 404
        sent = [request.environ.get(k) for k in ("REMOTE_USER", "HTTP_AUTHORIZATION", "HTTP_X_VISITOR")]
        return page("for %s %s at %s" % (sent, session.get("name") if how == "session" else "", request.host_url))

    @expose(TEMPLATE)
    @expose("json", exclude_names=["widgets", "tick", "fragments"])
    @cached_template()
    def multi(self, probe):
        return page("multi")

    @expose(TEMPLATE)
    @cached_template()
    def every(self, *args, **kw):
        return page("every %r %r" % (args, sorted(kw.items())))

    @expose(TEMPLATE)
    @cached_template(key=("number",))
    def article(self, number, author=None, text=None):
        if request.validation.errors:  # made as the error handler of comment()
            return page("article %s; you wrote %s" % (number, author))
        return page("article %s" % number)

    @expose()
    @validate({"text": RequireValue("Say something")}, error_handler=article)
    def comment(self, number, author=None, text=None):
        return "thanks"

    @expose()
    def remember(self, name):
        session["name"] = name
        session.save()
        return "ok"


def marked(poisoned, clean):
    return MARK in clean.text or any(MARK in value for _, value in clean.headerlist)


def same_title(poisoned, clean):
    title = re.compile(r"<h1>(.*?)</h1>", re.S)
    return title.findall(poisoned.text) == title.findall(clean.text)


def not_html(poisoned, clean):
    return clean.content_type != "text/html"


def probes(session_cookie):
    """``(name, poisoning path, its request, clean path, its request, leaked(poisoned, clean))``,
    each on a page of its own."""
    me, basic = {"headers": {"X-Visitor": MARK}}, base64.b64encode(MARK.encode() + b":pw").decode()
    return [
        ("forged Host", "/personal/host", {"headers": {"Host": MARK + ".example"}}, "/personal/host", {}, marked),
        ("/page.json on HTML+JSON", "/multi/ext.json", {}, "/multi/ext", {}, not_html),
        ("Accept: application/json", "/multi/acc", {"headers": {"Accept": "application/json"}},
         "/multi/acc", {"headers": {"Accept": "text/html"}}, not_html),
        ("?a=1%1F2 vs ?a=1&a=2", "/every/q?a=1%1F2", {}, "/every/q?a=1&a=2", {}, same_title),
        ("?*0=x vs /page/x", "/every?*0=x", {}, "/every/x", {}, same_title),
        ("?a=1&b=2 vs ?a=1%26b%3D2", "/every/amp?a=1%26b%3D2", {}, "/every/amp?a=1&b=2", {}, same_title),
        ("error_handler, cold cache", "/comment/5?author=%s&text=" % MARK, {}, "/article/5", {}, marked),
        ("error_handler, warm cache", "/comment/6?author=%s&text=" % MARK, {}, "/article/6", {}, marked),
        ("Authorization: Bearer", "/personal/bearer", {"headers": {"Authorization": "Bearer " + MARK}},
         "/personal/bearer", {}, marked),
        ("Authorization: Basic", "/personal/basic", {"headers": {"Authorization": "Basic " + basic}},
         "/personal/basic", {}, lambda p, c: basic in c.text),
        ("REMOTE_USER", "/personal/user", {"environ": {"REMOTE_USER": MARK}}, "/personal/user", {}, marked),
        ("page sets a cookie", "/personal/cookie", me, "/personal/cookie", {}, marked),
        ("Cache-Control: private", "/personal/private", me, "/personal/private", {}, marked),
        ("Cache-Control: no-store", "/personal/no-store", me, "/personal/no-store", {}, marked),
        ("Vary: Cookie", "/personal/vary", me, "/personal/vary", {}, marked),
        ("404 for the poisoner", "/personal/status", me, "/personal/status", {}, lambda p, c: c.status_int != 200),
        ("page reads the session", "/personal/session", {"headers": {"Cookie": session_cookie}},
         "/personal/session", {}, marked),
        ("POST with a body", "/every/post", {"method": "POST", "POST": {"x": MARK}}, "/every/post", {}, marked),
        ("HEAD first", "/every/head", {"method": "HEAD"}, "/every/head", {}, lambda p, c: not c.body),
    ]


def probe_section():
    app = build(root=ProbeRoot(), **{"beaker.cache.regions": "trust%d" % next(REGIONS), "session.enabled": "true",
                                     "beaker.session.type": "memory"}).app
    send(app, "/article/6")  # cached before its error handler is poisoned
    signed_in = send(app, "/remember?name=" + MARK).headers.getall("Set-Cookie")
    tried, leaked, inert, errors = probes("; ".join(c.split(";")[0] for c in signed_in)), [], [], []
    # The control: a page with nothing private about it is shared, so the harness must see it leak.
    control = ("control", "/personal/plain", {"headers": {"X-Visitor": MARK}}, "/personal/plain", {}, marked)
    for name, poison_path, poison, clean_path, clean, leaks in tried + [control]:
        try:
            poisoned, answer = send(app, poison_path, **poison), send(app, clean_path, **clean)
            if answer.status_int >= 500:
                errors.append("%s (%s)" % (name, answer.status))
            elif leaks(poisoned, answer):
                leaked.append(name)
            if not leaks(poisoned, poisoned):  # the poison did not even reach its own answer
                inert.append(name)
        except Exception as exc:
            errors.append("%s (%r)" % (name, exc))
    detected = "control" in leaked
    if detected:
        leaked.remove("control")
    table("2. Cache probes: a poisoning request, then a clean visitor (control leak detected: %s)"
          % ("yes" if detected else "NO"), ["tried", "leaked", "inert", "errors"],
          [[len(tried), len(leaked), len(inert), len(errors)]])
    for label, names in (("leaked", leaked), ("inert", inert), ("errors", errors)):
        if names:
            print("  %s: %s" % (label, "; ".join(names)))


def main():
    logging.disable(logging.CRITICAL)  # 5xx answers are counted, their tracebacks not printed
    with tempfile.TemporaryDirectory() as root:
        try:
            hostile_section(os.path.realpath(root))
            probe_section()
        finally:
            distributions.forget()


if __name__ == "__main__":
    main()
