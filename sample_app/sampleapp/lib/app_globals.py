"""Objects shared by every request (``tg.app_globals``)."""


class Globals:
    """Container for objects available throughout the life of the application."""
