"""Pick faces read from TOML: every mistake named with the face it is in; nothing half-read."""

from __future__ import annotations

from pathlib import Path

import pytest

from floor_app.domain.replenishment import PickFace
from hub.errors import HubError
from hub.pick_faces import parse_faces, read_faces

GOOD = """
[[face]]
location = "A01-01-1A"
sku = "SKU-00001"
min = 6
max = 40

[[face]]
location = "A01-01-2A"
sku = "SKU-00002"
min = 0
max = 12
"""


def test_the_faces_of_a_file() -> None:
    assert parse_faces(GOOD) == [
        PickFace("A01-01-1A", "SKU-00001", 6, 40),
        PickFace("A01-01-2A", "SKU-00002", 0, 12),
    ]


def test_the_shipped_example_reads() -> None:
    faces = read_faces(Path(__file__).parents[2] / "config" / "pick_faces.toml")
    assert faces and all(f.max_qty > f.min_qty for f in faces)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[face]]\nlocation='A'\nsku='S'\nmin=5\nmax=5\n", "face 1: .*max \\(5\\) must be more"),
        ("[[face]]\nlocation='A'\nsku='S'\nmin=-1\nmax=5\n", "face 1 min: .*greater than or equal"),
        ("[[face]]\nlocation='A'\nsku='S'\nmax=5\n", "face 1 min: Field required"),
        ("[[face]]\nlocation=''\nsku='S'\nmin=1\nmax=5\n", "face 1 location: .*at least 1"),
        ("[[face]]\nlocation='A'\nsku='S'\nmin=1\nmax=5\nmaxx=3\n", "face 1 maxx: Extra"),
        ("[[face]]\nlocation='A'\nsku='S'\nmin='a'\nmax=5\n", "face 1 min: .*integer"),
        ("[[face]]\nlocation='A'\nsku='S'\nmin=1\nmax=5\n" * 2, "face 2 repeats A S"),
        ("", "holds no \\[\\[face\\]\\]"),
        ("[[face]\n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(HubError, match=message):
        parse_faces(text)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(HubError, match=r"cannot read .*nope\.toml"):
        read_faces(tmp_path / "nope.toml")
