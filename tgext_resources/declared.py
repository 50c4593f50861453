"""What the process has declared so far: tw2 classes found by walking their subclasses."""


def subclasses(root):
    """Yield ``root`` and every class below it defined so far, each once."""
    seen, stack = set(), [root]
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        yield cls
