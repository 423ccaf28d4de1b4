"""Upkeep of the gettext catalogues: extraction, the check ``make test`` runs, TOML porting.

The catalogues are ``locale/<locale>/LC_MESSAGES/floor.po``. Their msgids are symbolic keys
(``pick.wrong_location``); English is the ``en`` catalogue's msgstr. Babel extracts every
key the code names (:func:`extract_floor`, wired by ``babel.cfg``):

- the first argument of ``tr(...)`` and ``trn(...)`` and a binding's description
  (``Binding(key, action, "keys.quit")``);
- ``errors.<code>`` for every ``code="..."`` given to a rejection (a domain, service or hub
  error, a hub outcome) and every :class:`~floor_app.domain.errors.Reason` (its second
  argument).

``python -m floor_app.ui.i18n.extract check`` (and ``tests/unit/test_i18n_catalogues.py``)
fails naming each key that a catalogue lacks, or that ``zh_CN`` leaves fuzzy or untranslated.
``python -m floor_app.ui.i18n.extract port FILE.toml LOCALE`` adds the entries of an old
TOML catalogue (dotted tables, ``str.format`` templates) to the locale's ``.po``; an entry
already there keeps its text unless ``--replace`` is given (a plural entry always does).
Porting a branch that still adds keys to ``en.toml`` and ``zh.toml``::

    git show BRANCH:floor_app/ui/i18n/en.toml > /tmp/en.toml
    git show BRANCH:floor_app/ui/i18n/zh.toml > /tmp/zh.toml
    python -m floor_app.ui.i18n.extract port /tmp/en.toml en
    python -m floor_app.ui.i18n.extract port /tmp/zh.toml zh_CN
    make catalogues
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tomllib
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from . import CATALOGUE_LOCALES, DOMAIN, LOCALE_DIR, po_path

_HERE = Path(__file__).parent
#: the repository's root (babel.cfg's folder) when running from a checkout
ROOT = _HERE.parents[2]
MAPPING = ROOT / "babel.cfg"
#: call names whose first argument is a key (``Binding``: its third, the description)
KEYWORDS = {"tr": 1, "trn": 1, "Binding": 3}
#: calls whose positional argument is a rejection code (``Reason(text, code, params)``)
CODE_ARGS = {"Reason": 2}
#: a rejection code: lower-case words joined by dots (``pick.more_than_open``)
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
#: a symbolic key as the catalogues hold them
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")

#: fixed header dates: a catalogue changes only when its texts do
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_HEADER = """\
# The floor app's texts. Msgids are keys; see floor_app/ui/i18n/extract.py.
#"""

Extracted = tuple[int, str, str, list[str]]


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _keys(node: ast.expr) -> Iterator[tuple[int, str]]:
    """The literal keys an argument names: a string, or either side of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if KEY.match(node.value):
            yield node.lineno, node.value
    elif isinstance(node, ast.IfExp):
        yield from _keys(node.body)
        yield from _keys(node.orelse)


def _found(source: bytes) -> Iterator[tuple[int, str]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        index = KEYWORDS.get(name)
        if index is not None and len(node.args) >= index:
            yield from _keys(node.args[index - 1])
        index = CODE_ARGS.get(name)
        if index is not None and len(node.args) >= index:
            yield from ((n, f"errors.{code}") for n, code in _keys(node.args[index - 1]))
        for kw in node.keywords:
            value = kw.value
            if (
                kw.arg == "code"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
                and CODE.match(value.value)
            ):
                yield value.lineno, f"errors.{value.value}"


def extract_floor(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[Extracted]:
    """Babel extraction method (``babel.cfg``): translation keys and rejection codes.

    Python's own parser finds them (a key chosen by ``"a" if c else "b"`` gives both);
    keys are yielded without a function name, so Babel's keyword list (``-k``) is not
    needed: :data:`KEYWORDS` says which argument of which call is a key.
    """
    for lineno, key in _found(fileobj.read()):
        yield lineno, "", key, []


def extract(root: Path = ROOT) -> dict[str, list[str]]:
    """Every key the code names -> where (``path:line``): Babel with ``babel.cfg``."""
    with MAPPING.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(MAPPING))  # type: ignore[no-untyped-call]
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords={}, comment_tags=()
    ):
        if isinstance(message, str):
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def load(locale: str, base: Path = LOCALE_DIR) -> Catalog:
    """The ``.po`` catalogue of ``locale`` (an empty one when the file is missing)."""
    path = po_path(locale, base)
    if not path.exists():
        catalog = Catalog(
            locale=locale,
            domain=DOMAIN,
            project="floor",
            version="1",
            copyright_holder="The floor contributors",
            msgid_bugs_address="",
            creation_date=_EPOCH,
            revision_date=_EPOCH,
            fuzzy=False,
        )
        catalog.header_comment = _HEADER
        return catalog
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=DOMAIN)


def save(catalog: Catalog, locale: str, base: Path = LOCALE_DIR) -> Path:
    """Write ``catalog`` as ``locale``'s ``.po``: sorted, no source lines, no wrapping."""
    path = po_path(locale, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=0, no_location=True, sort_output=True, omit_header=False)
    path.write_bytes(buf.getvalue())
    return path


def _translated(message: Message) -> bool:
    string = message.string
    if isinstance(string, tuple | list):
        return all(bool(s) for s in string)
    return bool(string)


def problems(extracted: Mapping[str, list[str]], catalogues: Mapping[str, Catalog]) -> list[str]:
    """What is wrong with the catalogues, one line each naming the key (empty: all good).

    Every extracted key must be in every catalogue; every entry of ``zh_CN`` (and of the
    English one) must be translated and not fuzzy; both must hold the same keys.
    """
    out: list[str] = []
    keys = {
        locale: {str(m.id if isinstance(m.id, str) else m.id[0]) for m in cat if m.id}
        for locale, cat in catalogues.items()
    }
    for key, where in sorted(extracted.items()):
        for locale in catalogues:
            if key not in keys[locale]:
                out.append(f"{locale}: {key} is missing (named at {where[0]})")
    for locale, cat in catalogues.items():
        for message in cat:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if message.fuzzy:
                out.append(f"{locale}: {key} is fuzzy")
            elif not _translated(message):
                out.append(f"{locale}: {key} is untranslated")
    first, *others = list(catalogues)
    for locale in others:
        for key in sorted(keys[first] - keys[locale]):
            out.append(f"{locale}: {key} is missing (in {first})")
        for key in sorted(keys[locale] - keys[first]):
            out.append(f"{first}: {key} is missing (in {locale})")
    return sorted(set(out))


def check(root: Path = ROOT, base: Path = LOCALE_DIR) -> list[str]:
    """Extract and check every catalogue (see :func:`problems`)."""
    catalogues = {locale: load(locale, base) for locale in CATALOGUE_LOCALES}
    return problems(extract(root), catalogues)


def _flatten(prefix: str, data: Mapping[str, Any], out: dict[str, str]) -> dict[str, str]:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(name, value, out)
        else:
            out[name] = str(value)
    return out


def port_toml(toml: Path, locale: str, *, replace: bool = False, base: Path = LOCALE_DIR) -> int:
    """Add the entries of the TOML catalogue ``toml`` to ``locale``'s ``.po``; how many
    were added or changed."""
    with toml.open("rb") as fh:
        entries = _flatten("", tomllib.load(fh), {})
    catalog = load(locale, base)
    changed = 0
    for key, text in entries.items():
        old = catalog.get(key)
        if old is not None and (not replace or old.pluralizable):
            continue  # kept (a plural entry is never made singular again)
        if old is not None and old.string == text:
            continue
        if old is None:
            catalog.add(key, text)
        else:
            old.string = text
        changed += 1
    save(catalog, locale, base)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``check`` the catalogues, or ``port`` a TOML catalogue into one."""
    parser = argparse.ArgumentParser(prog="python -m floor_app.ui.i18n.extract")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="extract with Babel and check every catalogue")
    port = sub.add_parser("port", help="add a TOML catalogue's entries to a .po catalogue")
    port.add_argument("toml", type=Path)
    port.add_argument("locale", choices=CATALOGUE_LOCALES)
    port.add_argument("--replace", action="store_true", help="overwrite entries already there")
    args = parser.parse_args(argv)
    if args.command == "port":
        n = port_toml(args.toml, args.locale, replace=args.replace)
        print(f"{po_path(args.locale)}: {n} entries added or changed")
        return 0
    found = check()
    for line in found:
        print(line)
    print(f"catalogues: {len(found)} problems" if found else "catalogues: every key translated")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
