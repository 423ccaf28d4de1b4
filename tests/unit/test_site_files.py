"""Reading site files: every row checked on its own, every problem named by file, line and
column; files read by header names, with or without a byte order mark."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.site_files.csvfile import Problems
from hub.site_files.read import read_site

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "site-example"


def site(tmp_path: Path, **files: str) -> Path:
    """A site directory holding ``files`` (name with the dot as ``_``: items_csv=...)."""
    folder = tmp_path / "site"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_csv", ".csv").replace("_toml", ".toml")).write_text(
            text, encoding="utf-8"
        )
    return folder


def problems_of(folder: Path) -> list[str]:
    found = Problems()
    read_site(folder, found)
    return [str(p) for p in found.items]


def test_the_example_site_reads_without_a_problem() -> None:
    found = Problems()
    files = read_site(EXAMPLE, found)
    assert not found
    assert files.items is not None and len(files.items) == 24
    assert files.layout is not None and files.layout.aisles == 4
    assert files.carriers is not None


def test_columns_are_found_by_name_in_any_order_with_a_byte_order_mark(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (folder / "items.csv").write_bytes("\ufeffweight_g,name,sku\n\n250,Tea,TEA-1\n".encode())
    found = Problems()
    files = read_site(folder, found)
    assert not found
    assert files.items is not None
    line, item = files.items[0]
    assert (line, item.sku, item.name, item.weight_g) == (3, "TEA-1", "Tea", 250)


def test_a_file_separated_by_semicolons_is_named_as_such(tmp_path: Path) -> None:
    folder = site(tmp_path, items_csv="sku;name;weight_g\nTEA-1;Tea;250\n")
    assert problems_of(folder) == [
        "items.csv:1: the columns are separated by semicolons; separate them by commas"
    ]


def test_missing_unknown_and_repeated_columns(tmp_path: Path) -> None:
    folder = site(tmp_path, items_csv="sku,name,colour,name\nTEA-1,Tea,red,Tea\n")
    got = problems_of(folder)
    assert any(p.startswith("items.csv:1: weight_g: missing column") for p in got)
    assert any(p.startswith("items.csv:1: colour: unknown column") for p in got)
    assert "items.csv:1: name: the column is named twice" in got


def test_a_gtin_with_a_wrong_check_digit(tmp_path: Path) -> None:
    folder = site(tmp_path, barcodes_csv="barcode,sku\n5060321000108,TEA-1\n5060321000109,TEA-1\n")
    assert problems_of(folder) == [
        "barcodes.csv:3: barcode: GTIN 5060321000109 has a wrong check digit: expected 8, got 9"
    ]


@pytest.mark.parametrize("expiry", ["02/03/2027", "2027-2-3", "2030-02-30", "20270203x"])
def test_a_date_in_the_wrong_format(tmp_path: Path, expiry: str) -> None:
    folder = site(
        tmp_path, stock_csv=f"location,sku,qty,lot,expiry\nA01-01-1A,TEA-1,5,L1,{expiry}\n"
    )
    got = problems_of(folder)
    assert len(got) == 1 and got[0].startswith("stock.csv:2: expiry: ")
    assert "YYYY-MM-DD" in got[0]


def test_a_negative_quantity_and_a_quantity_beyond_any_shelf(tmp_path: Path) -> None:
    folder = site(
        tmp_path,
        stock_csv="location,sku,qty\nA01-01-1A,TEA-1,-3\nA01-01-2A,TEA-1,4260123000011\n",
    )
    got = problems_of(folder)
    assert got[0].startswith("stock.csv:2: qty: ") and "greater than or equal to 0" in got[0]
    assert got[1].startswith("stock.csv:3: qty: ") and "less than or equal to 1000000" in got[1]


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    folder = site(tmp_path)
    with (folder / "stock.csv").open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: the size is real, the disk is not used
    assert problems_of(folder) == [
        "stock.csv: the file is 210 MB; a site file is at most 67 MB (is it the right file?)"
    ]


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (folder / "items.csv").write_bytes(b"sku,name,weight_g\nTEA-1,Tea,1\nTEA-2,Th\xe9,2\n")
    assert problems_of(folder) == ["items.csv:3: not UTF-8 text; save the file as CSV UTF-8"]


def test_line_numbers_count_lines_inside_quoted_fields(tmp_path: Path) -> None:
    folder = site(
        tmp_path,
        items_csv='sku,name,weight_g\nTEA-1,"Tea,\nbreakfast",1\nTEA-2,Tea,heavy\n',
    )
    assert problems_of(folder) == [
        "items.csv:4: weight_g: Input should be a valid integer, unable to parse string as an "
        "integer"
    ]


def test_a_row_with_too_many_fields(tmp_path: Path) -> None:
    folder = site(
        tmp_path,
        cartons_csv=("code,length_mm,width_mm,height_mm,tare_g,max_weight_g\nBOX,1,2,3,4,5,6\n"),
    )
    assert problems_of(folder) == ["cartons.csv:2: 7 fields; the header has 6"]


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite_coordinates(tmp_path: Path, value: str) -> None:
    folder = site(tmp_path, locations_csv=f"code,type,x_m\nPACK-01,pack,{value}\n")
    got = problems_of(folder)
    assert len(got) == 1 and got[0].startswith("locations.csv:2: x_m: ")


def test_users_badges_roles_and_pins(tmp_path: Path) -> None:
    folder = site(
        tmp_path,
        users_csv=(
            "user_id,name,badge,roles,pin\n"
            "ann,Ann,1001,picker,1234\n"
            "bob,Bob,B1002,driver,1234\n"
            "cy,Cy,B1003,packer,12a4\n"
        ),
    )
    got = problems_of(folder)
    assert got[0] == "users.csv:2: badge: '1001' is not a badge: B and 4 to 8 digits, e.g. B1001"
    assert got[1].startswith("users.csv:3: roles: ")
    assert got[2] == "users.csv:4: pin: a PIN is 4 to 8 digits"


def test_a_location_code_that_is_neither_a_rack_nor_a_station(tmp_path: Path) -> None:
    folder = site(tmp_path, locations_csv="code,type\nAISLE 3,pick\n")
    (got,) = problems_of(folder)
    assert got.startswith("locations.csv:2: code: 'AISLE 3' is not a location code")


def test_a_misspelt_file_is_refused_not_skipped(tmp_path: Path) -> None:
    folder = site(tmp_path, item_csv="sku,name,weight_g\n")
    misspelt, nothing = problems_of(folder)
    assert misspelt.startswith("item.csv: not a site file (site files: layout.toml")
    assert "no site files here" in nothing


def test_a_folder_without_site_files(tmp_path: Path) -> None:
    folder = site(tmp_path)
    (got,) = problems_of(folder)
    assert "no site files here" in got


def test_a_broken_layout_and_broken_carrier_rules(tmp_path: Path) -> None:
    folder = site(tmp_path, layout_toml="aisles = 0\n", carriers_toml="zones = 3\n")
    got = problems_of(folder)
    assert got[0] == "layout.toml: layout key 'aisles' must be at least 1, got 0"
    assert any(p.startswith("carriers.toml: zones: ") for p in got)


def test_the_example_is_a_copyable_starting_point(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE, copy)
    (copy / "README.txt").write_text("notes", encoding="utf-8")  # other files are left alone
    assert problems_of(copy) == []
