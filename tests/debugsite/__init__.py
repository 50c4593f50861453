"""An application package shaped as TurboGears' quickstart makes them (its root controller in
``controllers/root.py``, where tgext.debugbar looks for it), for the toolbar's tests."""
