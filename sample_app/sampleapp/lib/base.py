"""The base controller of SampleApp."""
from tg import TGController, tmpl_context


class BaseController(TGController):
    """Every controller of the application inherits from this one."""

    def _before(self, *args, **kw):
        tmpl_context.project_name = "SampleApp"
