"""Find a font that has Chinese glyphs, for the text of labels.

Looked for in this order: the file named by ``$FLOOR_LABEL_FONT``; the fonts of the Debian
packages ``fonts-wqy-zenhei`` (the one the setup installs), ``fonts-noto-cjk`` and
``fonts-wqy-microhei``; whatever fontconfig lists for Chinese (``fc-list :lang=zh``).
:class:`LabelFontMissing` says what to install when none is there.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from .errors import LabelFontMissing

FONT_ENV = "FLOOR_LABEL_FONT"

KNOWN_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
"""Font files tried in order (Debian paths)."""


@functools.lru_cache(maxsize=4)
def find_cjk_font(env_value: str | None = None) -> Path:
    """The path of a font with Chinese glyphs; raises :class:`LabelFontMissing`.

    ``env_value`` stands for ``$FLOOR_LABEL_FONT`` (read from the environment when None).
    """
    chosen = env_value if env_value is not None else os.environ.get(FONT_ENV, "")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise LabelFontMissing(f"{FONT_ENV}={chosen} is not a font file")
        return path
    for candidate in KNOWN_FONTS:
        path = Path(candidate)
        if path.is_file():
            return path
    listed = _fontconfig_chinese()
    if listed is not None:
        return listed
    raise LabelFontMissing(
        "no font with Chinese glyphs found for labels: install the Debian package "
        f"fonts-wqy-zenhei (or fonts-noto-cjk), or set {FONT_ENV} to a .ttf/.ttc/.otf file"
    )


def _fontconfig_chinese() -> Path | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listing = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sorted(listing.splitlines()):
        path = Path(line.strip().rstrip(":"))
        if path.suffix.lower() in (".ttf", ".ttc", ".otf") and path.is_file():
            return path
    return None
