"""``floor-bench NAME [options] --json``: run one benchmark and print its figures as JSON.

Each benchmark is a module ``bench/<name>.py`` exposing ``main(argv: list[str]) -> int``
and a docstring whose first line describes it. ``floor-bench --list`` shows them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def available() -> dict[str, str]:
    """Benchmark name -> first docstring line, for every module in the bench package."""
    names: dict[str, str] = {}
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "main"):
            names[info.name.replace("_", "-")] = (module.__doc__ or "").strip().splitlines()[0]
    return names


def module_names() -> list[str]:
    """The benchmark module names, without importing them."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_") and info.name != "common"
    )


def main(argv: list[str] | None = None) -> int:
    """Dispatch to ``bench.<name>.main``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "--list"):
        print("usage: floor-bench NAME [options] --json\n\nbenchmarks:")
        for name, doc in sorted(available().items()):
            print(f"  {name:<10} {doc}")
        return 0 if args else 2
    name = args[0].replace("-", "_")  # site-load is bench/site_load.py
    # Only the benchmark asked for is imported: importing all of them (OpenCV and numpy
    # for the camera and barcode benchmarks, the hub's modules...) added ~45 MB to the
    # process, which the ui benchmark reported as the app's memory.
    module = importlib.import_module(f"bench.{name}") if name in module_names() else None
    if module is None or not hasattr(module, "main"):
        print(
            f"floor-bench: unknown benchmark {name!r}; one of: {', '.join(sorted(available()))}",
            file=sys.stderr,
        )
        return 2
    result: int = module.main(args[1:])
    return result


if __name__ == "__main__":
    sys.exit(main())
