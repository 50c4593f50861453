"""Thumbnails of the images kept in the database."""
import io

THUMBNAIL_SIZE = (160, 160)


def thumbnail(data):
    """A PNG thumbnail of image ``data`` (any format Pillow reads)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(THUMBNAIL_SIZE)
        output = io.BytesIO()
        image.save(output, "PNG", optimize=True)
    return output.getvalue()
