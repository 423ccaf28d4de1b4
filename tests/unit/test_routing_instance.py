"""Routing instances as read from JSON, and what the bench prints for one."""

import json
from pathlib import Path

import pytest

from bench import routing
from bench.routing import _instance_results
from floor_app.domain.layout import LayoutError
from floor_app.domain.routing import InstanceError, instance_from_mapping, route_methods

pytestmark = pytest.mark.unit

INSTANCE = {
    "name": "tiny",
    "layout": {"aisles": 3, "bays": 4},
    "picks": [[1, 3], {"aisle": 2, "bay": 1, "code": "A02-01-1A"}, [3, 3]],
}


def test_instance_is_read() -> None:
    inst = instance_from_mapping(INSTANCE)
    assert inst.name == "tiny"
    assert inst.stops == ((1, 3), (2, 1), (3, 3))
    assert inst.codes == ("", "A02-01-1A", "")
    assert instance_from_mapping(inst.to_mapping()) == inst


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"picks": "1-3"}, "'picks' must be a list"),
        ({"picks": [[1, 3], [2]]}, "picks[1]"),
        ({"picks": [[1, "3"]]}, "picks[0][1] (bay)"),
        ({"picks": [{"aisle": 1}]}, "picks[0] must have 'aisle' and 'bay'"),
        ({"picks": [{"aisle": 1, "bay": 2, "level": 3}]}, "picks[0]"),
        ({"name": 5}, "'name'"),
        ({"extra": 1}, "'extra'"),
    ],
)
def test_malformed_instance_names_the_fault(change: dict[str, object], words: str) -> None:
    with pytest.raises(InstanceError) as err:
        instance_from_mapping({**INSTANCE, **change})
    assert words in err.value.reason


def test_missing_layout_is_refused() -> None:
    with pytest.raises(InstanceError, match="no 'layout'"):
        instance_from_mapping({"picks": [[1, 1]]})


def test_bad_layout_names_its_key() -> None:
    with pytest.raises(LayoutError, match="'aisles'"):
        instance_from_mapping({**INSTANCE, "layout": {"aisles": "x"}})


def test_bench_prints_every_method_for_an_instance() -> None:
    rows = _instance_results(instance_from_mapping(INSTANCE))
    assert [r["method"] for r in rows] == ["auto", *route_methods()]
    by_method = {r["method"]: r for r in rows}
    assert by_method["optimal"]["length_m"] == pytest.approx(27.0)
    assert by_method["s_shape"]["length_m"] == pytest.approx(29.4)
    assert by_method["auto"]["used"] == "optimal"
    assert sorted(map(tuple, by_method["auto"]["stops"])) == [(1, 3), (2, 1), (3, 3)]
    json.dumps(rows)  # every row is plain JSON


def test_bench_reports_a_stop_outside_the_layout_per_method() -> None:
    inst = instance_from_mapping({**INSTANCE, "picks": [[1, 3], [4, 1]]})
    rows = _instance_results(inst)
    assert all("not in the layout" in r["error"] for r in rows)


def test_an_instance_file_that_is_not_utf8_is_refused_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(
        json.dumps({**INSTANCE, "name": "Lager Süd"}, ensure_ascii=False)
        .encode("utf-8")
        .replace("ü".encode(), "ü".encode("latin-1"))
    )
    assert routing.main(["--instance", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert "is not UTF-8" in err and "Traceback" not in err
