"""floor-bench NAME: only that benchmark is imported (the ui benchmark reports the process's
memory, which other benchmarks' imports such as OpenCV must not inflate)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from bench.__main__ import main
code = main(sys.argv[1:])
print(code, sorted(m for m in sys.modules if m.startswith("bench.") and m != "bench.__main__"))
"""


def _run(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_benchmark_run_imports_no_other_benchmark() -> None:
    assert _run("carriers", "--orders", "0") == "2 ['bench.carriers']"


def test_an_unknown_name_is_refused_with_the_list() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "nope"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().startswith("2 ")
    assert "unknown benchmark 'nope'" in done.stderr
    assert "ui" in done.stderr.split("one of:")[1]
