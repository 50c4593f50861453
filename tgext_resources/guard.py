"""The widget statelessness guard: in development, mutating a shared widget fails loudly.

A tw2 widget declared at module level is a class shared by every request and thread.  Two
mistakes leak one user's data into another's page, and nothing says so:

* setting an attribute of the widget during a request (``banana_widget.foo = "bar"`` in a
  controller, ``self.__class__.x = ...`` in ``prepare()``);
* changing in place a list or dict that belongs to the widget class (``self.resources.append(...)``
  in ``prepare()``, as tw2.jqplugins.ui does: the list also grows on every request).

With the guard on (``guard.enabled``, by default when ``debug = true``) both raise
WidgetMutationError in the request that does it, naming the widget, the attribute and what
to do instead.  Per-request instances (``Widget.req()``, what ``display()`` renders) stay
freely mutable, and so does everything done at import or configuration time, and to
widget classes created during the request itself.

Installing the guard changes tw2's widget metaclass and the class-level lists and dicts of
the widgets defined; it is installed only when an application with the guard on is built.
With the guard off nothing is installed: there is no cost per request.

One such mistake is so common in widget libraries from PyPI (tw2.jqplugins.ui appends its
theme stylesheet to ``self.resources`` in ``prepare()``, a list of the class) that it is
made harmless for every application, guard or not: :func:`own_resources` gives each
per-request instance its own copy of ``resources`` before ``prepare()`` runs, as the
widget's author should have with ``safe_modify``.
"""
import copy
import threading

from tw2.core import core

from .declared import subclasses
from .errors import WidgetMutationError

#: The request-local key saying "this request is guarded" (set by the middleware).
GUARDED_REQUEST = "tgext_resources.guarded"
_FRESH = "tgext_resources.fresh_widgets"

_installed = False
_install_lock = threading.Lock()
_building = threading.local()  # depth of widget class creation in this thread


def _guarded_now(cls):
    """Whether a change to ``cls`` right now is a change to a shared widget in a request."""
    if getattr(_building, "depth", 0):
        return False  # a widget class being defined (tw2 sets its attributes then)
    local = core.request_local()
    if not local.get(GUARDED_REQUEST):
        return False  # import, configuration, a command, or an application without the guard
    return cls not in local.get(_FRESH, ())


def _describe(cls):
    # Widgets made by calling a widget class (DialogWidget(id="about")) are classes tw2
    # creates in its params module: name the class they were made from, and their id.
    named = next((c for c in cls.__mro__ if c.__module__ != "tw2.core.params"), cls)
    widget_id = getattr(cls, "id", None)
    return "%s.%s%s" % (named.__module__, named.__name__, " (id %r)" % widget_id if isinstance(widget_id, str) else "")


def _checked(base, method_name, no_op=None):
    """``base.method_name``, refusing to run during a guarded request (unless ``no_op`` says
    the call changes nothing, like ``extend([])``)."""
    original = getattr(base, method_name)
    kind = base.__name__

    def method(self, *args, **kwargs):
        if not (no_op and no_op(*args, **kwargs)) and _guarded_now(self._tgext_owner):
            raise WidgetMutationError(
                "%s.%s, a %s shared by every request and thread, was changed in place by .%s() "
                "during a request: the change would reach other users' pages (and, for a list, grow "
                "on every request). Copy it onto the per-request instance before changing it "
                "(self.safe_modify(%r) in prepare(), as tw2 does), or pass the value to display()."
                % (_describe(self._tgext_owner), self._tgext_attribute, kind, method_name, self._tgext_attribute)
            )
        return original(self, *args, **kwargs)

    method.__name__ = method_name
    return method


def _empty(*args, **kwargs):
    return len(args) == 1 and not kwargs and isinstance(args[0], (list, tuple, dict, set)) and not args[0]


class GuardedList(list):
    """A widget class's list that refuses in-place changes during a guarded request."""

    append = _checked(list, "append")
    insert = _checked(list, "insert")
    remove = _checked(list, "remove")
    pop = _checked(list, "pop")
    clear = _checked(list, "clear")
    sort = _checked(list, "sort")
    reverse = _checked(list, "reverse")
    __setitem__ = _checked(list, "__setitem__")
    __delitem__ = _checked(list, "__delitem__")
    extend = _checked(list, "extend", _empty)
    __iadd__ = _checked(list, "__iadd__", _empty)
    __imul__ = _checked(list, "__imul__")

    # Copies (tw2's safe_modify, list(...)) are plain lists: the per-request copy is free to change.
    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return copy.deepcopy(list(self), memo)

    def __reduce_ex__(self, protocol):
        return (list, (list(self),))


class GuardedDict(dict):
    """A widget class's dict that refuses in-place changes during a guarded request."""

    __setitem__ = _checked(dict, "__setitem__")
    __delitem__ = _checked(dict, "__delitem__")
    pop = _checked(dict, "pop")
    popitem = _checked(dict, "popitem")
    clear = _checked(dict, "clear")
    setdefault = _checked(dict, "setdefault")
    update = _checked(dict, "update", _empty)
    __ior__ = _checked(dict, "__ior__", _empty)

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return copy.deepcopy(dict(self), memo)

    def __reduce_ex__(self, protocol):
        return (dict, (dict(self),))


def _guard_containers(cls):
    """Put the public lists and dicts of widget class ``cls`` under guard."""
    for attribute, value in list(cls.__dict__.items()):
        if attribute.startswith("_") or type(value) not in (list, dict):
            continue  # tw2's own bookkeeping, descriptors, WidgetBunch and other types
        guarded = (GuardedList if type(value) is list else GuardedDict)(value)
        guarded._tgext_owner = cls
        guarded._tgext_attribute = attribute
        type.__setattr__(cls, attribute, guarded)


def install():
    """Guard every widget class defined, and those defined from now on (idempotent)."""
    global _installed
    from tw2.core.widgets import Widget, WidgetMeta

    with _install_lock:
        if _installed:
            return
        original_new = WidgetMeta.__new__

        def guarded_new(meta, name, bases, namespace, **kwargs):
            _building.depth = getattr(_building, "depth", 0) + 1
            try:
                cls = original_new(meta, name, bases, namespace, **kwargs)
            finally:
                _building.depth -= 1
            local = core.request_local()
            if local.get(GUARDED_REQUEST):
                local.setdefault(_FRESH, set()).add(cls)  # made by this request: its own to change
            _guard_containers(cls)
            return cls

        def guarded_setattr(cls, name, value):
            if _guarded_now(cls):
                raise WidgetMutationError(
                    "attribute %r of widget %s was set during a request: widgets are shared by every "
                    "request and thread, so the value would leak into other users' pages. Pass it to "
                    "display() instead (widget.display(%s=...)), or set it on a per-request instance "
                    "(widget.req(%s=...))." % (name, _describe(cls), name, name)
                )
            type.__setattr__(cls, name, value)

        WidgetMeta.__new__ = staticmethod(guarded_new)
        WidgetMeta.__setattr__ = guarded_setattr
        for cls in list(subclasses(Widget)):
            _guard_containers(cls)
        _installed = True


def is_installed():
    return _installed


_owns_resources = False


def own_resources():
    """Give every per-request widget instance its own ``resources`` list (idempotent).

    tw2 makes a per-request instance with ``__init__``, then ``display()`` calls
    ``prepare()``: copying here, first, means a ``prepare()`` that appends to
    ``self.resources`` changes the request's copy, never the class shared by every request.
    A list copy per widget displayed costs well under a microsecond.
    """
    global _owns_resources
    from tw2.core.widgets import Widget

    with _install_lock:
        if _owns_resources:
            return
        original_init = Widget.__init__

        def __init__(self, **kw):
            original_init(self, **kw)
            if "resources" not in self.__dict__:
                shared = getattr(type(self), "resources", None)
                if isinstance(shared, list):
                    self.__dict__["resources"] = list(shared)

        __init__.__doc__ = original_init.__doc__
        Widget.__init__ = __init__
        _owns_resources = True
