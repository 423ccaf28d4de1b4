"""Settings from TOML: defaults, typos, wrong types, bad syntax, missing files, FLOOR_* vars."""

import os
from pathlib import Path

import pytest

from floor_app.domain.decisions import DecisionKind
from floor_app.domain.layout import Layout
from floor_app.domain.users import Role
from floor_app.settings import CONFIG_ENV, ConfigError, Settings, load_settings

pytestmark = pytest.mark.unit

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(autouse=True)
def _no_floor_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("FLOOR_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, name: str = "floor.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- defaults and shipped files ------------------------------------------------------------


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings == Settings()
    assert (settings.device.id, settings.device.site, settings.device.role) == (
        "hh-01",
        "dc1",
        None,
    )
    assert settings.store.data_dir == Path("/var/lib/floor")
    assert settings.db_path == Path("/var/lib/floor/floor-hh-01.db")
    assert settings.sync.enabled and settings.sync.broker == "mqtt://127.0.0.1:1883"
    assert settings.sync.password.get_secret_value() == ""
    assert (settings.ui.language, settings.ui.idle_lock_s) == ("en", 300)
    assert settings.layout.to_layout() == Layout(middle_cross_after=(4,))
    assert settings.devices.scanners == []


def test_shipped_defaults_file_matches_the_built_in_defaults() -> None:
    assert load_settings(CONFIG_DIR / "defaults.toml") == Settings()


def test_shipped_demo_file() -> None:
    settings = load_settings(CONFIG_DIR / "demo.toml")
    assert not settings.sync.enabled
    assert settings.db_path == Path("var/demo/floor-hh-01.db")


def test_a_file_sets_values_and_keeps_other_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[device]
id = "pk-02"
role = "packer"
station = "PACK-02"

[store]
path = "/data/floor.db"

[ui]
language = "zh"
""",
    )
    settings = load_settings(path)
    assert (settings.device.id, settings.device.role) == ("pk-02", Role.PACKER)
    assert settings.device.site == "dc1"
    assert settings.db_path == Path("/data/floor.db")
    assert settings.ui.language == "zh"
    assert settings.ui.theme == "high-contrast"


def test_the_label_addresses_and_the_supervisors_reason_codes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[label.sender]
name = "Floor DC1"
lines = ["Unit 4, Riverside Park"]
city = "Leeds"
postcode = "LS10 1AB"
country = "GB"
phone = "+44 113 496 0000"

[supervisor.reasons]
accept_weight = ["scale_fault", "pallet_wrap"]
""",
    )
    settings = load_settings(path)
    assert settings.label.sender is not None and settings.label.return_to is None
    sender = settings.label.sender.to_address()
    assert (sender.name, sender.lines, sender.phone) == (
        "Floor DC1",
        ("Unit 4, Riverside Park",),
        "+44 113 496 0000",
    )
    codes = settings.supervisor.reason_codes()
    assert codes.of(DecisionKind.ACCEPT_WEIGHT) == ("scale_fault", "pallet_wrap")
    assert codes.of(DecisionKind.APPROVE_SHORT)[0] == "no_stock"  # the floor's own list
    bad = write(tmp_path, '[supervisor.reasons]\nrelease_hold = ["Checked OK"]\n', "bad.toml")
    with pytest.raises(ConfigError, match="reason codes of release_hold must be lowercase"):
        load_settings(bad)
    lost = write(tmp_path, '[label.sender]\nname = "X"\n', "lost.toml")
    with pytest.raises(ConfigError, match=r"label\.sender\.lines"):
        load_settings(lost)


def test_the_layout_section_builds_a_domain_layout(tmp_path: Path) -> None:
    path = write(tmp_path, "[layout]\naisles = 4\nbays = 8\nmiddle_cross_after = []\n")
    assert load_settings(path).layout.to_layout() == Layout(aisles=4, bays=8)


# -- bad files -----------------------------------------------------------------------------


def test_shipped_broken_file_is_refused_naming_each_key() -> None:
    path = CONFIG_DIR / "broken.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "2 errors" in message
    assert "device.rol: unknown key; did you mean 'role'?" in message
    assert "ui.idle_lock_s" in message and "valid integer" in message
    assert "'five minutes'" in message


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('[device]\nrol = "picker"\n', "device.rol", "role"),
        ('[devcie]\nid = "hh-02"\n', "devcie", "device"),
        ("[sync]\nheartbeat = 5\n", "sync.heartbeat", "heartbeat_s"),
        ("[ui]\nidle_lock = 60\n", "ui.idle_lock", "idle_lock_s"),
        ("[layout]\naisle = 4\n", "layout.aisle", "aisles"),
        ('[store]\ndatadir = "/tmp"\n', "store.datadir", "data_dir"),
    ],
)
def test_a_typo_names_the_file_and_the_key_and_suggests_the_right_one(
    tmp_path: Path, text: str, key: str, suggestion: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert f"config file {path}" in message
    assert f"{key}: unknown key; did you mean '{suggestion}'?" in message


def test_an_unknown_key_with_no_near_match_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "[ui]\nwallpaper = 'cats'\n")
    with pytest.raises(ConfigError, match=r"ui\.wallpaper: unknown key; known keys: language"):
        load_settings(path)


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[ui]\nidle_lock_s = "five minutes"\n', "ui.idle_lock_s", "valid integer"),
        ("[ui]\nidle_lock_s = -1\n", "ui.idle_lock_s", "greater than or equal to 0"),
        ('[ui]\nlanguage = "fr"\n', "ui.language", "'en' or 'zh'"),
        ('[ui]\nbell = "loud"\n', "ui.bell", "valid boolean"),
        ('[device]\nrole = "driver"\n', "device.role", "'picker', 'packer' or 'supervisor'"),
        ('[device]\nid = "HH 01"\n', "device.id", "should match pattern"),
        ("[store]\nbusy_timeout_ms = 10\n", "store.busy_timeout_ms", "greater than or equal"),
        ('[sync]\nbroker = "http://hub"\n', "sync.broker", "must start with mqtt://"),
        ("[sync]\nheartbeat_s = 0\n", "sync.heartbeat_s", "greater than 0"),
        ("[layout]\naisles = 2.5\n", "layout.aisles", "valid integer"),
        ("[layout]\naisle_pitch_m = inf\n", "layout.aisle_pitch_m", "finite number"),
        ("[layout]\ndepot = [1.0]\n", "layout.depot.1", "field required"),
        ('device = "hh-01"\n', "device", "valid dictionary"),
    ],
)
def test_a_wrong_type_or_value_names_the_key_and_what_was_expected(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{key}: " in message
    assert expected in message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[layout]\nbays = 4\n", "middle cross aisle after bay position 4 is outside 0..0"),
        (
            "[layout]\nmiddle_cross_after = [3, 3]\n",
            "middle_cross_after lists a bay position twice",
        ),
        ("[layout]\ndepot = [nan, 0.0]\n", "the depot must be two finite coordinates"),
    ],
)
def test_an_impossible_layout_is_refused_at_load_time(
    tmp_path: Path, text: str, reason: str
) -> None:
    # Refused when the file is read, not when routing first asks for the layout.
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"layout: {reason}" in str(info.value)


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[device]\nid = "hh-01"\nsite = "dc1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert f"config file {path} is not valid TOML" in message
    assert "line 3" in message


def test_duplicate_key_is_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, '[ui]\nlanguage = "en"\nlanguage = "zh"\n')
    with pytest.raises(ConfigError, match="line 3"):
        load_settings(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=f"config file {path} does not exist"):
        load_settings(path)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        load_settings(tmp_path)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[device]\nstation = "Café"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[ui]\n")
    if os.geteuid() == 0:  # root reads files whatever their mode: refuse the open instead

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(Path, "open", refuse)
    else:
        path.chmod(0)
    with pytest.raises(ConfigError, match=f"config file {path} cannot be read"):
        load_settings(path)


def test_every_error_is_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[device]\nrol = "x"\n[ui]\nbell = "loud"\ntheme = "pink"\n')
    with pytest.raises(ConfigError, match="has 3 errors") as info:
        load_settings(path)
    assert all(k in str(info.value) for k in ("device.rol", "ui.bell", "ui.theme"))


# -- environment ---------------------------------------------------------------------------


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[device]\nid = "hh-02"\nsite = "dc2"\n[ui]\nidle_lock_s = 60\n')
    monkeypatch.setenv("FLOOR_DEVICE__ID", "hh-07")
    monkeypatch.setenv("FLOOR_UI__IDLE_LOCK_S", "90")
    settings = load_settings(path)
    assert settings.device.id == "hh-07"
    assert settings.device.site == "dc2"  # the rest of the section stays from the file
    assert settings.ui.idle_lock_s == 90


def test_environment_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOR_SYNC__BROKER", "mqtts://hub.example:8883")
    monkeypatch.setenv("FLOOR_SYNC__ENABLED", "false")
    monkeypatch.setenv("FLOOR_SYNC__PASSWORD", "s3cret")
    monkeypatch.setenv("FLOOR_DEVICE__ROLE", "packer")
    monkeypatch.setenv("FLOOR_LAYOUT__DEPOT", "[1.5, 2.0]")
    settings = load_settings()
    assert settings.sync.broker == "mqtts://hub.example:8883"
    assert settings.sync.enabled is False
    assert settings.sync.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.device.role is Role.PACKER
    assert settings.layout.depot == (1.5, 2.0)


def test_environment_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("floor_device__id", "hh-08")
    assert load_settings().device.id == "hh-08"


def test_floor_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[device]\nid = "hh-03"\n')
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_settings().device.id == "hh-03"
    other = write(tmp_path, '[device]\nid = "hh-04"\n', "other.toml")
    assert load_settings(other).device.id == "hh-04"  # an explicit path wins


def test_floor_config_naming_a_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match=r"gone\.toml does not exist"):
        load_settings()


def test_a_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOR_UI__IDLE_LOCK_S", "soon")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "ui.idle_lock_s" in message and "'soon'" in message
    assert "FLOOR_* environment variables" in message


def test_a_typo_in_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOR_UI__IDLE_LOCKS", "5")
    with pytest.raises(ConfigError, match=r"ui\.idle_locks: unknown key; did you mean"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLOOR_LAYOUT__DEPOT", "0,0"),
        ("FLOOR_LAYOUT__MIDDLE_CROSS_AFTER", "[4"),
        ("FLOOR_DEVICE", "hh-01"),
        ("FLOOR_UI", "{bell: false}"),
    ],
)
def test_an_environment_value_that_is_not_json_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("FLOOR_DEVICE__ID", "hh-05")  # a good neighbour, not blamed
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert f"environment variable {name}:" in message
    assert "must be JSON" in message


def test_unrelated_floor_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOOR_CHAOS_SEED", "4")
    monkeypatch.setenv("FLOOR_TEST_PG", "postgresql://x")
    assert load_settings() == Settings()


# -- command-line overrides ------------------------------------------------------------------


def test_overrides_beat_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[device]\nid = "hh-02"\nsite = "dc2"\n[sync]\nenabled = true\n')
    settings = load_settings(path, device={"id": "hh-09"}, sync={"enabled": False})
    assert (settings.device.id, settings.device.site) == ("hh-09", "dc2")
    assert settings.sync.enabled is False


def test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # `floor-app --demo --device-id hh-09` must not sync or take another device's id because
    # the environment says otherwise.
    monkeypatch.setenv("FLOOR_DEVICE__ID", "hh-01")
    monkeypatch.setenv("FLOOR_SYNC__ENABLED", "true")
    monkeypatch.setenv("FLOOR_UI__LANGUAGE", "zh")
    settings = load_settings(None, device={"id": "hh-09"}, sync={"enabled": False})
    assert settings.device.id == "hh-09"
    assert settings.sync.enabled is False
    assert settings.ui.language == "zh"  # what no option overrides still comes from the environment


def test_a_bad_override_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"(?s)command-line options.*device\.id: string should match"
    ):
        load_settings(None, device={"id": "HH 09"})
    with pytest.raises(ConfigError, match="unknown settings section 'devcie'"):
        load_settings(None, devcie={"id": "hh-09"})


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.device.id = "hh-02"  # type: ignore[misc]
