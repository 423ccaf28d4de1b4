"""The key bar wraps between keys, never inside one, and fills each line first."""

from __future__ import annotations

from floor_app.ui.widgets.key_bar import wrap_keys

KEYS = [("f3", "Carrier"), ("f4", "Hold"), ("f5", "Returns"), ("esc", "Set aside"), ("^q", "Quit")]


def test_keys_fill_a_line_then_wrap_whole() -> None:
    lines = wrap_keys(KEYS, 31)
    assert lines == [KEYS[:3], KEYS[3:]]  # "f3 Carrier  f4 Hold  f5 Returns" is 31 cells
    assert all(len("  ".join(f"{k} {t}" for k, t in line)) <= 31 for line in lines)


def test_a_wide_terminal_takes_one_line_and_a_key_wider_than_the_line_its_own() -> None:
    assert wrap_keys(KEYS, 200) == [KEYS]
    assert wrap_keys(KEYS, 30)[0] == KEYS[:2]  # one cell less: f5 goes down
    assert wrap_keys([("f1", "退出登录"), ("f2", "x" * 50)], 20) == [
        [("f1", "退出登录")],
        [("f2", "x" * 50)],
    ]
