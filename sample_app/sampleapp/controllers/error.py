"""Error pages, rendered by TurboGears for 4xx/5xx responses."""
from tg import expose, request

from sampleapp.lib.base import BaseController


class ErrorController(BaseController):
    """Shows the error pages TurboGears' ErrorPageApplicationWrapper asks for."""

    @expose("sampleapp.templates.error")
    def document(self, *args, **kwargs):
        resp = request.environ.get("tg.original_response")
        code = resp.status_int if resp is not None else 500
        message = "We are sorry: that went wrong." if code >= 500 else "That page does not exist."
        return dict(page="error", code=code, message=message)
