"""Real TurboGears applications for the tests, built the way users build theirs."""
import re
import warnings

from tg import (
    AppConfig,
    FullStackApplicationConfigurator,
    MinimalApplicationConfigurator,
    TGController,
    expose,
    request,
    session,
    validate,
)
from tg.configuration import milestones
from webtest import TestApp

from tgext_resources import ResourcesConfigMixin

import tests.testsite as testsite
from tests.testsite.widgets import Badge, CommentForm, dialog, text_field

#: The three kinds of configurator an application can mix ResourcesConfigMixin into.
KINDS = {
    "fullstack": FullStackApplicationConfigurator,
    "minimal": MinimalApplicationConfigurator,
    "appconfig": AppConfig,
}


def configurator_class(kind):
    return type("AppConfigurator", (ResourcesConfigMixin, KINDS[kind]), {})


class RootController(TGController):
    @expose("tests.testsite.templates.page")
    def index(self):
        return dict(title="widgets", widgets=[Badge, text_field, dialog])

    @expose("tests.testsite.templates.page")
    def plain(self):
        return dict(title="no widgets", widgets=[])

    @expose("tests.testsite.templates.form")
    def comment(self, **kw):
        return dict(form=CommentForm, errors=request.validation.errors)

    @expose("json")
    @validate(form=CommentForm, error_handler=comment)
    def save(self, author, email, day=None, **kw):
        return dict(author=author, email=email, day=day.isoformat() if day else None)

    @expose()
    def remember(self, name):
        """Puts ``name`` in the visitor's session (for pages that must then not be shared)."""
        session["name"] = name
        session.save()
        return "ok"

    @expose(content_type="text/plain")
    def text(self):
        Badge.display()  # registers resources, but a text response must stay untouched
        return "<head></head> plain text"


def blueprint(root=None, package=None):
    return {
        "package": package or testsite,
        "root_controller": root or RootController(),
        "renderers": ["kajiki", "json"],
        "default_renderer": "kajiki",
        "use_dotted_templatenames": True,
        "sa_auth.enabled": False,
        "identity.enabled": False,
        "errorpage.enabled": False,
    }


def build(kind="fullstack", configurator=None, root=None, extra_environ=None, package=None, **options):
    """Build a TestApp for ``kind`` (or an already instantiated ``configurator``) with ini ``options``.

    ``package``: the application package (default: the test site); templates always come
    from the test site.
    """
    cfg = configurator if configurator is not None else configurator_class(kind)()
    options = {key: str(value) if isinstance(value, bool) else value for key, value in options.items()}
    options.setdefault("debug", "false")
    if isinstance(cfg, AppConfig):
        for key, value in blueprint(root, package).items():
            cfg[key] = value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # AppConfig itself is deprecated
            wsgi = cfg.make_wsgi_app(**options)
    else:
        cfg.update_blueprint(blueprint(root, package))
        wsgi = cfg.make_wsgi_app({}, options)
    # TurboGears tracks start-up milestones once per process; let the next app reach them again.
    # (Resetting before building would drop the @expose resolutions queued at import time.)
    milestones._reset_all()
    return TestApp(wsgi, extra_environ=extra_environ or {})


_LINK_RE = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', re.I)


def resource_links(html, prefix="/tw2/resources/"):
    """Every script and stylesheet URL under ``prefix`` in ``html``, in page order."""
    return [url for url in _LINK_RE.findall(html) if url.startswith(prefix)]


_TOKEN_RE = re.compile(r"^(.*?/[^/]+)/v[0-9a-f]{12}/")


def canonical(url):
    """``url`` without its version token: /tw2/resources/<module>/<file>."""
    return _TOKEN_RE.sub(r"\1/", url, count=1)


def canonical_links(html, prefix="/tw2/resources/"):
    """The links of ``html`` under ``prefix``, without their version tokens."""
    return [canonical(url) for url in resource_links(html, prefix)]


_CSS_TOKEN_RE = re.compile(
    r"/\*.*?\*/|url\(\s*['\"]?([^'\")]+)['\"]?\s*\)|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", re.S
)


def css_references(css):
    """The url(...) references of a stylesheet (not those in comments or strings), data: URIs left out."""
    return [u for u in _CSS_TOKEN_RE.findall(css) if u and not u.startswith("data:")]


_CSS_IMPORT_RE = re.compile(r"/\*.*?\*/|@import\s+(?:\"((?:\\.|[^\"\\])*)\"|'((?:\\.|[^'\\])*)')", re.S)


def stylesheet_references(css):
    """What a stylesheet makes the browser fetch: its url(...) references and the targets of
    its ``@import "..."`` rules (``@import url(...)`` is among the former)."""
    imports = [double or single for double, single in _CSS_IMPORT_RE.findall(css) if double or single]
    return css_references(css) + imports
