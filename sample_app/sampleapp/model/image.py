"""Images kept in the database (their thumbnails go to the filesystem cache)."""
import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sampleapp.model import DeclarativeBase


class Image(DeclarativeBase):
    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=datetime.datetime.now)
