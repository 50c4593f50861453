"""Template helpers, available as ``h`` in templates."""
from markupsafe import Markup  # noqa: F401
from tg import url  # noqa: F401


def date(value):
    return value.strftime("%d %B %Y") if value else ""
