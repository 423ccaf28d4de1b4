"""floor: the software that runs a warehouse floor (handhelds, pack stations, supervisors)."""

__version__ = "0.1.0"
