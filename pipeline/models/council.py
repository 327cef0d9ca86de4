"""Councils and the Local Government Services List: the reference data."""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pipeline.extensions import db

NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")


class Council(db.Model):
    __tablename__ = "councils"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    gss_code: Mapped[str | None] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(60))
    nation: Mapped[str] = mapped_column(String(30), index=True)
    region: Mapped[str] = mapped_column(String(60))
    website_domain: Mapped[str | None] = mapped_column(String(253))

    domains: Mapped[list["CouncilDomain"]] = relationship(
        back_populates="council", order_by="CouncilDomain.domain", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Council {self.code} {self.name}>"


class CouncilDomain(db.Model):
    """An email domain whose addresses belong to a council's officers; two councils may share one."""

    __tablename__ = "council_domains"
    __table_args__ = (UniqueConstraint("domain", "council_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id", ondelete="CASCADE"), index=True)

    council: Mapped[Council] = relationship(back_populates="domains")


class Function(db.Model):
    """A Local Government Functions List entry: the hierarchy that groups services."""

    __tablename__ = "functions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("functions.id"))

    parent: Mapped["Function | None"] = relationship(remote_side=[id])


class Service(db.Model):
    """A Local Government Services List (LGSL) service, keyed by its stable LGSL id."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    function_id: Mapped[int | None] = mapped_column(ForeignKey("functions.id"), index=True)

    function: Mapped[Function | None] = relationship()
