"""A small TurboGears application package the tests build apps from."""
