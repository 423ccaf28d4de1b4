"""Typed settings: TOML files validated with pydantic; ``FLOOR_*`` environment variables override.

A bad file is one clear :class:`ConfigError` naming the file, the key and what was
expected, and the program exits non-zero before anything starts half-configured.
Environment variables use ``__`` between levels: ``FLOOR_DEVICE__ID=hh-07``,
``FLOOR_SYNC__BROKER=mqtts://hub.example:8883``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from device_drivers.config import DevicesSettings
from floor_app.domain.decisions import DEFAULT_REASONS, DecisionKind, ReasonCodes
from floor_app.domain.errors import DomainError
from floor_app.domain.layout import Layout, LayoutError
from floor_app.domain.lots import LotRule
from floor_app.domain.order import Address
from floor_app.domain.picking import PutConfirmation
from floor_app.domain.users import Role

CONFIG_ENV = "FLOOR_CONFIG"


class ConfigError(Exception):
    """The configuration is unusable; the message says where and what was expected."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSettings(_Section):
    """``[device]``: who this device is."""

    id: str = Field(default="hh-01", pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")
    """Device id, unique per site (lowercase letters, digits and dashes)."""
    site: str = Field(default="dc1", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    """Site id; the first level of every MQTT topic."""
    role: Role | None = None
    """Lock the device to one role (picker, packer or supervisor); empty allows any."""
    station: str = ""
    """Pack station location code (PACK-01 ...) for packing stations."""
    quarantine: str = Field(default="QUAR-01", min_length=1, max_length=32)
    """Quarantine location the returns desk and receiving send damaged and wrong items to."""
    dock: str = Field(default="DOCK-01", min_length=1, max_length=32)
    """Dock receiving starts at (another dock's label may be scanned instead)."""


class StoreSettings(_Section):
    """``[store]``: the local database."""

    data_dir: Path = Path("/var/lib/floor")
    """Folder for the device's database and spool files."""
    path: Path | None = None
    """The SQLite file; default ``<data_dir>/floor-<device id>.db``."""
    busy_timeout_ms: int = Field(default=5000, ge=100, le=60000)
    """How long a writer waits for the lock before the action fails with a clear message."""


class SyncSettings(_Section):
    """``[sync]``: the connection to the hub."""

    enabled: bool = True
    """Connect to the broker (off in demo mode)."""
    broker: str = "mqtt://127.0.0.1:1883"
    """Broker URL: mqtt://host:port, or mqtts://host:port for TLS."""
    username: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    heartbeat_s: float = Field(default=10.0, gt=0, le=300)
    """Seconds between health heartbeats."""
    retention_days: float = Field(default=7.0, ge=0, le=365)
    """Keep events the hub acknowledged this many days, to send them again to a hub
    restored from a backup (0: delete them once acknowledged)."""
    retention_max_events: int = Field(default=200_000, ge=0, le=10_000_000)
    """Keep at most this many acknowledged events (the oldest go first)."""

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value


class UiSettings(_Section):
    """``[ui]``: how the app looks and behaves."""

    language: Literal["en", "zh"] = "en"
    """Default language at login (each user may switch)."""
    theme: Literal["high-contrast", "dark", "light"] = "high-contrast"
    idle_lock_s: int = Field(default=300, ge=0, le=86400)
    """Lock the screen after this many idle seconds (0: never)."""
    bell: bool = True
    """Ring the terminal bell on an error."""
    kiosk: bool = False
    """A kiosk (the floor-app@ unit): quitting the app needs a supervisor's badge."""


class PickingSettings(_Section):
    """``[picking]``: the site's rules for totes on a pick task."""

    put_confirmation: PutConfirmation = PutConfirmation.EVERY_LINE
    """Where a task fills more than one tote, a scan of the tote confirms the put of
    every line (``every_line``) or only the first put into each tote (``first_put``)."""
    staging: str = Field(default="STAGE-01", min_length=1, max_length=32)
    """Where totes of an order left short go at the end of a task (its pack station
    otherwise), to wait for a supervisor."""
    lot_rule: LotRule = LotRule.EXACT
    """A lot-tracked item whose scanned lot is not the allocated one: refused (``exact``),
    or taken when it has not expired and recorded as a substitution (``substitute``)."""


class LayoutSettings(_Section):
    """``[layout]``: the floor's geometry, used for routing (see floor_app.domain.layout)."""

    aisles: int = Field(default=10, ge=1, le=500)
    bays: int = Field(default=20, ge=1, le=1000)
    aisle_pitch_m: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    first_aisle_x_m: float = Field(default=1.5, ge=0, allow_inf_nan=False)
    bay_width_m: float = Field(default=1.2, gt=0, allow_inf_nan=False)
    cross_aisle_width_m: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    middle_cross_after: tuple[int, ...] = (4,)
    depot: tuple[float, float] = (0.0, 0.0)

    @model_validator(mode="after")
    def _possible_layout(self) -> LayoutSettings:
        # Refused here, not when routing first asks for the layout.
        try:
            self.to_layout()
        except LayoutError as exc:
            raise ValueError(exc.reason) from None
        return self

    def to_layout(self) -> Layout:
        """The domain layout."""
        return Layout(**self.model_dump())


class AddressSettings(_Section):
    """A postal address of the site (``[label.sender]``, ``[label.return_to]``)."""

    name: str = Field(min_length=1, max_length=80)
    lines: tuple[str, ...] = Field(min_length=1, max_length=4)
    """Street lines, top to bottom."""
    city: str = Field(min_length=1, max_length=60)
    postcode: str = Field(min_length=1, max_length=16)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    """ISO 3166 two-letter code (GB, CN ...)."""
    phone: str = Field(default="", max_length=32)
    region: str = Field(default="", max_length=60)

    def to_address(self) -> Address:
        """The domain address."""
        return Address(
            self.name,
            tuple(self.lines),
            self.city,
            self.postcode,
            self.country,
            self.phone,
            self.region,
        )


class LabelSettings(_Section):
    """``[label]``: what every shipping label of the site says about the site itself."""

    sender: AddressSettings | None = None
    """Who sends the parcels (printed on every label; a label cannot be made without it,
    except in demo mode, which has the demo site's)."""
    return_to: AddressSettings | None = None
    """Where undeliverable parcels go back to (default: the sender)."""
    document_printer: str = Field(default="", max_length=127)
    """CUPS queue of the station's A4 printer for packing slips ("" : the slip is kept as a
    PDF in the store's spool folder and the screen says where)."""


class SupervisorSettings(_Section):
    """``[supervisor]``: the reason codes a supervisor chooses from, per decision."""

    reasons: dict[DecisionKind, tuple[str, ...]] = Field(default_factory=dict)
    """``approve_short``, ``release_hold``, ``accept_weight``: lists of lowercase codes
    (default: the floor's own lists); texts for codes of a site's own are its catalogue's."""

    @model_validator(mode="after")
    def _usable_codes(self) -> SupervisorSettings:
        try:
            self.reason_codes()
        except DomainError as exc:
            raise ValueError(exc.reason) from None
        return self

    def reason_codes(self) -> ReasonCodes:
        """The site's reason codes (the defaults for a kind it does not list)."""
        return ReasonCodes({**DEFAULT_REASONS, **self.reasons})


class Settings(BaseSettings):
    """All settings of a floor device."""

    model_config = SettingsConfigDict(
        env_prefix="FLOOR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    device: DeviceSettings = DeviceSettings()
    store: StoreSettings = StoreSettings()
    sync: SyncSettings = SyncSettings()
    ui: UiSettings = UiSettings()
    picking: PickingSettings = PickingSettings()
    layout: LayoutSettings = LayoutSettings()
    devices: DevicesSettings = DevicesSettings()
    label: LabelSettings = LabelSettings()
    supervisor: SupervisorSettings = SupervisorSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (which arrives as init values).
        return env_settings, init_settings

    @property
    def db_path(self) -> Path:
        """The database file."""
        return self.store.path or self.store.data_dir / f"floor-{self.device.id}.db"


def _describe(err: Any, known: dict[str, list[str]]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = ".".join(str(p) for p in err["loc"][:-1])
        candidates = known.get(parent, [])
        close = difflib.get_close_matches(str(err["loc"][-1]), candidates, n=1)
        tip = (
            f"; did you mean '{close[0]}'?"
            if close
            else (f"; known keys: {', '.join(candidates)}" if candidates else "")
        )
        return f"{loc}: unknown key{tip}"
    got = err.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    msg = err["msg"].removeprefix("Value error, ").lower()
    return f"{loc}: {msg}{shown}"


def _known_keys(
    model: type[BaseModel], prefix: str = "", out: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    out = {} if out is None else out
    out[prefix] = list(model.model_fields)
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            _known_keys(ann, f"{prefix}.{name}" if prefix else name, out)
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file or raise :class:`ConfigError` with the file, line and column."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"config file {path} cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc}") from None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$FLOOR_CONFIG``; none: defaults), then the environment.

    ``overrides`` are nested dicts for command-line options (``device={"id": "hh-09"}``):
    they beat both the file and the environment.
    """
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    data: dict[str, Any] = read_toml(path) if path is not None else {}
    where = f"config file {path}" if path else "configuration"
    try:
        settings = Settings(**data)
    except SettingsError as exc:
        # A FLOOR_* variable for a list or table that is not JSON (FLOOR_LAYOUT__DEPOT=0,0).
        names = sorted(
            k for k in os.environ if k.upper().startswith("FLOOR_") and k.upper() != CONFIG_ENV
        )
        field = re.search(r'field "(\w+)"', str(exc))
        if field:
            prefix = f"FLOOR_{field[1]}".upper()
            whole = [k for k in names if k.upper() == prefix and not _is_json(os.environ[k])]
            nested = [k for k in names if k.upper().startswith(f"{prefix}__")]
            names = whole or nested or names
        raise ConfigError(
            f"environment variable{'s' if len(names) > 1 else ''} {', '.join(names)}: {exc}"
            f" ({exc.__cause__}); lists and tables must be JSON, e.g. "
            "FLOOR_LAYOUT__DEPOT='[0.0, 0.0]'"
        ) from None
    except ValidationError as exc:
        raise _config_error(
            where, exc, "(values may also come from FLOOR_* environment variables)"
        ) from None
    return _apply_overrides(settings, overrides)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    # Each section is validated on its own: Settings(...) would read the environment again
    # and let it win over the command line.
    update: dict[str, BaseModel] = {}
    for section, values in overrides.items():
        current = getattr(settings, section, None) if section in Settings.model_fields else None
        if not isinstance(current, BaseModel) or not isinstance(values, dict):
            raise ConfigError(f"command-line options: unknown settings section {section!r}")
        try:
            update[section] = type(current).model_validate({**current.model_dump(), **values})
        except ValidationError as exc:
            raise _config_error("command-line options", exc, "", section) from None
    return settings.model_copy(update=update) if update else settings


def _config_error(where: str, exc: ValidationError, note: str, section: str = "") -> ConfigError:
    known = _known_keys(Settings)
    errors = [{**e, "loc": (section, *e["loc"])} if section else e for e in exc.errors()]
    lines = [_describe(e, known) for e in errors]
    head = f"{where} has {len(lines)} error{'s' if len(lines) > 1 else ''}"
    if note:
        head = f"{head} {note}"
    return ConfigError(head + ":\n  " + "\n  ".join(lines))
