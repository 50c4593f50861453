"""The key a cached page is stored under: what the page was made from, and nothing else.

A key has two halves.  The *base* is the controller's arguments (or the part ``key=`` picks
out of them): ``invalidate(...)`` computes it from the same arguments, so it drops every
variant at once.  The *variant* is everything else the page depends on although no
argument says so: the origin the visitor asked for (scheme, host, ``SCRIPT_NAME``: links
and absolute URLs are made from them, and a forged ``Host`` must not reach other
visitors), the response type TurboGears will render (``/page.json``, ``Accept``), the
language it translated into, and the user when pages are cached per user.

Both are digests of Python ``repr`` of tuples, never of joined text: ``?a=1&a=2`` (a list)
and ``?a=1%1F2`` (one string holding the separator) give different reprs, and so do the
positional ``/every/x`` and a keyword literally named ``*0``.
"""
import hashlib
import inspect

from tg.i18n import get_lang


def digest(*parts):
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _value(value):
    """A request value as text; a repeated parameter as a tuple of them."""
    if isinstance(value, (list, tuple)):
        return tuple(_value(v) for v in value)
    return value if isinstance(value, str) else str(value)


def arguments(signature, args, kwargs):
    """``(positional, named)``: the controller's extra positional arguments (``*args``, the
    rest of the URL path) as a tuple, and every named argument in a dict, values as text."""
    bound = signature.bind_partial(*args, **kwargs)
    positional, named = (), {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if name == "self":
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            named.update((k, _value(v)) for k, v in value.items())
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            positional = tuple(_value(v) for v in value)
        else:
            named[name] = _value(value)
    return positional, named


def base(spec, signature, args, kwargs):
    """The base of the key, from ``cached_template(key=spec)`` and the call's arguments.

    Raises TypeError for arguments the controller itself would refuse."""
    positional, named = arguments(signature, args, kwargs)
    if callable(spec):
        # The callable sees the named arguments; the rest of the path still tells pages apart.
        return "k:" + digest(str(spec(**named)), positional)
    if spec is not None:
        return "n:" + digest(sorted((name, value) for name, value in named.items() if name in spec))
    return "a:" + digest(positional, sorted(named.items()))


def origin(request):
    """Scheme, host and mount point of the request, as the page's own URLs are made."""
    return "%s%s" % (request.host_url.lower(), request.script_name)


def response_type(request, decoration, context):
    """The content type TurboGears will render this request with (``@expose`` may offer
    several: the URL extension and ``Accept`` choose)."""
    try:
        return decoration.lookup_template_engine(context)[0]
    except Exception:
        # Whatever TurboGears makes of an odd request, keep it apart from the usual ones.
        return "%s|%s" % (getattr(request, "_response_type", None), request.headers.get("Accept", ""))


def language():
    try:
        return ",".join(get_lang(all=False) or ())
    except Exception:
        return ""


def variant(request, decoration, context, user):
    return digest(origin(request), response_type(request, decoration, context), language(), user)
