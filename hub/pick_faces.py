"""Pick faces with their replenishment levels: read from a TOML file, written to the hub.

The file holds one ``[[face]]`` table per pick face::

    [[face]]
    location = "A01-01-1A"   # a pick location of the site
    sku = "SKU-00001"        # a SKU of the site
    min = 6                  # below this many available units, a refill is made
    max = 40                 # the refill brings on-hand up to this many

The file is checked whole before anything is written (:func:`read_faces`); loading it
(:func:`load_faces`) checks every location and SKU against the hub, adds or changes the
faces, and makes the refills faces already below their minimum need.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, select, update

from floor_app.domain.replenishment import PickFace

from .bulk import insert_rows
from .errors import HubError
from .replenishment import PICK_FACES, Trigger, replenish
from .stock import LOCATIONS
from .tables import SkuRow, table_of

SKUS = table_of(SkuRow)


class FaceConfig(BaseModel):
    """One ``[[face]]`` of the file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    min_qty: int = Field(alias="min", ge=0)
    max_qty: int = Field(alias="max", gt=0)

    @model_validator(mode="after")
    def _levels(self) -> FaceConfig:
        if self.max_qty <= self.min_qty:
            raise ValueError(f"max ({self.max_qty}) must be more than min ({self.min_qty})")
        return self


class FacesFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    face: list[FaceConfig] = Field(default_factory=list)


def parse_faces(text: str, source: str = "pick faces") -> list[PickFace]:
    """The faces of a TOML text; raises :class:`HubError` naming each problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HubError(f"{source} is not valid TOML: {exc}") from None
    try:
        parsed = FacesFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise HubError(
            f"{source}: {problems}",
            hint="each [[face]] needs location, sku, min and max (max more than min)",
        ) from None
    seen: set[tuple[str, str]] = set()
    for i, f in enumerate(parsed.face, start=1):
        key = (f.location, f.sku)
        if key in seen:
            raise HubError(f"{source}: face {i} repeats {f.location} {f.sku}")
        seen.add(key)
    if not parsed.face:
        raise HubError(f"{source} holds no [[face]]", hint="add one [[face]] table per pick face")
    return [PickFace(f.location, f.sku, f.min_qty, f.max_qty) for f in parsed.face]


def _where(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "face" and isinstance(loc[1], int):
        rest = ".".join(str(x) for x in loc[2:])
        return f"face {loc[1] + 1}" + (f" {rest}" if rest else "")
    return ".".join(str(x) for x in loc) or "file"


def read_faces(path: Path) -> list[PickFace]:
    """The faces of the file at ``path``; raises :class:`HubError` naming the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_faces(text, str(path))


def save_faces(conn: Connection, faces: Iterable[PickFace]) -> int:
    """Add or change pick faces (no checks against the site); how many."""
    rows = sorted(faces, key=lambda f: (f.location, f.sku))
    existing = {
        (r.location, r.sku) for r in conn.execute(select(PICK_FACES.c.location, PICK_FACES.c.sku))
    }
    new = [
        {"location": f.location, "sku": f.sku, "min_qty": f.min_qty, "max_qty": f.max_qty}
        for f in rows
        if (f.location, f.sku) not in existing
    ]
    for f in rows:
        if (f.location, f.sku) in existing:
            conn.execute(
                update(PICK_FACES)
                .where(PICK_FACES.c.location == f.location)
                .where(PICK_FACES.c.sku == f.sku)
                .values(min_qty=f.min_qty, max_qty=f.max_qty)
            )
    insert_rows(conn, PICK_FACES, new)
    return len(rows)


def load_faces(
    conn: Connection, faces: list[PickFace], *, now: float | None = None
) -> dict[str, object]:
    """Check ``faces`` against the site, write them, make the refills they need now.

    Raises :class:`HubError` (nothing written) when a location is unknown or not a pick
    location, or a SKU is unknown.
    """
    now = time.time() if now is None else now
    kinds = {
        r.code: r.kind
        for r in conn.execute(
            select(LOCATIONS.c.code, LOCATIONS.c.kind).where(
                LOCATIONS.c.code.in_(sorted({f.location for f in faces}))
            )
        )
    }
    skus = set(
        conn.execute(
            select(SKUS.c.sku).where(SKUS.c.sku.in_(sorted({f.sku for f in faces})))
        ).scalars()
    )
    problems = []
    for f in faces:
        if f.location not in kinds:
            problems.append(f"{f.location} is not a location of this site")
        elif kinds[f.location] != "pick":
            problems.append(f"{f.location} is a {kinds[f.location]} location, not a pick face")
        if f.sku not in skus:
            problems.append(f"{f.sku} is not a SKU of this site")
    if problems:
        raise HubError(
            "pick faces not loaded: " + "; ".join(sorted(set(problems))),
            hint="fix the file; nothing was changed",
        )
    count = save_faces(conn, faces)
    made = replenish(
        conn, [(f.location, f.sku) for f in faces], Trigger("config", "pick faces"), now=now
    )
    return {"faces": count, "refills": [r.task_id for r in made]}
