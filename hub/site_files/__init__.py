"""A site's own data as files: ``floor-hub site load DIR`` and ``floor-hub site export DIR``.

docs/operations.md ("Going live") describes every file and column; :mod:`.read` reads and
checks them, :mod:`.load` brings the hub to what they say in one transaction,
:mod:`.export` writes them back, :mod:`.reference` sends each version to the devices.
"""

from .csvfile import MAX_FILE_BYTES, Problem
from .export import export_site
from .load import LoadReport, SiteFileError, load_site
from .read import CSV_FILES, SITE_FILES
from .reference import send_reference, site_version

__all__ = [
    "CSV_FILES",
    "MAX_FILE_BYTES",
    "SITE_FILES",
    "LoadReport",
    "Problem",
    "SiteFileError",
    "export_site",
    "load_site",
    "send_reference",
    "site_version",
]
