"""Validation errors of ToscaWidgets 2 forms, reported the way TurboGears reports its own.

With ``@validate(form=MyForm, error_handler=...)`` TurboGears calls ``MyForm.validate``;
tw2 raises its own ``ValidationError``, which TurboGears 2.5 no longer knows.  Registered
here, it sends the request to the error handler with ``tg.request.validation.errors``
mapping each field to its message and ``.values`` holding what the user typed, while the
form displayed again in that request shows the messages next to the fields.
"""


def explode_validation_error(exception):
    """Turn tw2's ValidationError into TurboGears' ``{'errors': ..., 'values': ...}``."""
    widget = exception.widget
    fields = _fields(widget.child) if getattr(widget, "child", None) is not None else _fields(widget)
    errors = {field.compound_key: field.error_msg for field in fields if field.error_msg}
    child = getattr(widget, "child", widget)
    return {"errors": errors, "values": getattr(child, "value", None) or {}}


def _fields(widget):
    if getattr(widget, "compound_key", None):
        yield widget  # a leaf: it holds a submitted value
        return
    container = getattr(widget, "child", None) or widget
    for child in getattr(container, "children", ()):
        yield from _fields(child)


def install(conf):
    """Make TurboGears' validation treat tw2's ValidationError as a validation failure."""
    from tw2.core import ValidationError

    exceptions = conf.setdefault("validation.exceptions", [])
    if ValidationError not in exceptions:
        exceptions.append(ValidationError)
    conf.setdefault("validation.explode", {})[ValidationError] = explode_validation_error
