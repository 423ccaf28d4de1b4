"""hub.provisioning: identities, bundles, broker files; each refusal leaves files as they were."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from floor_app.settings import load_settings
from hub.provisioning import (
    CertificateProblem,
    DeviceExistsError,
    ProvisioningError,
    SiteAuthority,
    UnknownDeviceError,
    WrongPasswordError,
    check_certificate,
    check_device_identity,
    hash_password,
    pki,
    provision,
    revoke,
    verify_password,
)

pytestmark = pytest.mark.integration

BROKER = "mqtts://hub.dc1.example:8883"
NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def site(tmp_path: Path) -> SiteAuthority:
    return SiteAuthority(tmp_path / "site", broker_group=None)


def snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".lock":
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_certificate_identity_bundle_and_broker_files(site: SiteAuthority, tmp_path: Path) -> None:
    result = site.provision(
        "hh-07", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER, now=NOW
    )
    assert result.created_ca and result.method == "cert" and result.password is None
    bundle = tmp_path / "out" / "hh-07"
    assert sorted(p.name for p in bundle.iterdir()) == [
        "ca.crt",
        "device.crt",
        "device.key",
        "floor.toml",
    ]
    assert stat.S_IMODE((bundle / "device.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(site.paths.ca_key.stat().st_mode) == 0o600

    cert = x509.load_pem_x509_certificate((bundle / "device.crt").read_bytes())
    ca = x509.load_pem_x509_certificate((bundle / "ca.crt").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "hh-07"
    assert (
        cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "picker"
    )
    assert f"{cert.serial_number:x}" == result.serial
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=365)
    assert cert.not_valid_before_utc == NOW - dt.timedelta(days=1)  # clocks drift
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    cert.verify_directly_issued_by(ca)
    check_certificate(cert, ca, now=NOW)

    # floor.toml is what floor-app loads, pointing at the files in /etc/floor
    settings = load_settings(bundle / "floor.toml")
    assert (settings.device.id, settings.device.site, settings.device.role) == (
        "hh-07",
        "dc1",
        "picker",
    )
    assert settings.sync.broker == BROKER
    assert settings.sync.cert_file == Path("/etc/floor/device.crt")
    assert settings.sync.ca_file == Path("/etc/floor/ca.crt")

    acl = site.paths.acl.read_text()
    assert "user hh-07\ntopic write floor/v1/dc1/dev/hh-07/evt\n" in acl
    assert "topic read floor/v1/dc1/dev/hh-07/push" in acl
    assert "dev/+/" not in acl  # a picker reads no other device's topics
    assert site.paths.passwd.read_text() == ""
    crl = x509.load_pem_x509_crl(site.paths.crl.read_bytes())
    assert len(list(crl)) == 0 and crl.is_signature_valid(ca.public_key())
    assert site.paths.issued.joinpath(f"{result.serial}.crt").exists()
    assert "PRIVATE KEY" not in site.paths.registry.read_text()


def test_password_identity_uses_mosquittos_hash_format(site: SiteAuthority, tmp_path: Path) -> None:
    result = site.provision(
        "ps-01",
        "packer",
        "dc1",
        out_dir=tmp_path / "out",
        method="password",
        broker_url=BROKER,
        station="PACK-01",
    )
    assert result.password and len(result.password) >= 32
    line = site.paths.passwd.read_text().strip()
    user, hashed = line.split(":", 1)
    assert user == "ps-01" and hashed.startswith("$7$101$")
    assert verify_password(result.password, hashed)
    settings = load_settings(result.bundle_dir / "floor.toml")
    assert settings.sync.username == "ps-01"
    assert settings.sync.password.get_secret_value() == result.password
    assert settings.device.station == "PACK-01" and settings.sync.cert_file is None
    assert result.password not in site.paths.registry.read_text()
    assert stat.S_IMODE((result.bundle_dir / "floor.toml").stat().st_mode) == 0o600


def test_our_hash_matches_what_mosquitto_passwd_checks(tmp_path: Path) -> None:
    """mosquitto_passwd -b writes $7$ hashes we verify; ours use the same layout."""
    passwd = tmp_path / "passwd"
    passwd.write_text("")
    try:
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwd), "hh-01", "s3cret"], check=True, timeout=30
        )
    except FileNotFoundError:
        pytest.skip("needs mosquitto_passwd (Debian package 'mosquitto')")
    theirs = passwd.read_text().strip().split(":", 1)[1]
    assert verify_password("s3cret", theirs) and not verify_password("other", theirs)
    ours = hash_password("s3cret")
    assert [len(p) for p in ours.split("$")] == [len(p) for p in theirs.split("$")]


def test_supervisor_hub_and_intake_acl(site: SiteAuthority, tmp_path: Path) -> None:
    out = tmp_path / "out"
    site.provision("sv-01", "supervisor", "dc1", out_dir=out, broker_url=BROKER)
    hub = site.provision("hub-1", "hub", out_dir=out, broker_url=BROKER)
    site.provision("erp", "intake", out_dir=out, broker_url=BROKER)
    acl = site.paths.acl.read_text()
    assert "user sv-01" in acl and "topic read floor/v1/dc1/dev/+/status" in acl
    assert "user hub-1\ntopic readwrite floor/v1/dc1/#" in acl
    assert (
        "user erp\ntopic write floor/v1/dc1/orders/in\ntopic write floor/v1/dc1/orders/cancel\n"
        "topic read floor/v1/dc1/orders/+/status\ntopic read floor/v1/dc1/orders/cancel/result\n"
        in acl
    )
    assert not (hub.bundle_dir / "floor.toml").exists()  # services get no device config
    identity = tomllib.loads((hub.bundle_dir / "identity.toml").read_text())["broker"]
    assert identity["client_name"] == "hub-1" and identity["cert_file"] == "/etc/floor/device.crt"
    local = site.provision(
        "hub-2", "hub", out_dir=out, method="password", broker_url="mqtt://127.0.0.1:1883"
    )
    creds = tomllib.loads((local.bundle_dir / "identity.toml").read_text())["broker"]
    assert (creds["username"], creds["password"]) == ("hub-2", local.password)
    assert stat.S_IMODE((local.bundle_dir / "identity.toml").stat().st_mode) == 0o600


def test_provisioning_an_existing_device_is_refused_and_overwrites_nothing(
    site: SiteAuthority, tmp_path: Path
) -> None:
    site.provision("hh-07", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER)
    before_site, before_out = snapshot(site.paths.root), snapshot(tmp_path / "out")
    for method in ("cert", "password"):
        with pytest.raises(DeviceExistsError, match="hh-07 is already provisioned") as err:
            site.provision(
                "hh-07", "packer", out_dir=tmp_path / "other", method=method, broker_url=BROKER
            )
        assert "floor-hub revoke hh-07" in str(err.value) and "nothing was changed" in str(
            err.value
        )
    assert snapshot(site.paths.root) == before_site
    assert snapshot(tmp_path / "out") == before_out
    assert not (tmp_path / "other").exists()


def test_an_existing_bundle_folder_is_not_overwritten(site: SiteAuthority, tmp_path: Path) -> None:
    (tmp_path / "out" / "hh-08").mkdir(parents=True)
    (tmp_path / "out" / "hh-08" / "floor.toml").write_text("# the operator's own file\n")
    with pytest.raises(ProvisioningError, match="already exists"):
        site.provision("hh-08", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER)
    assert (tmp_path / "out" / "hh-08" / "floor.toml").read_text() == "# the operator's own file\n"
    assert not site.paths.registry.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"device_id": "HH_07"}, "device id 'HH_07' is not valid"),
        ({"device_id": "a/b"}, "is not valid"),
        ({"role": "janitor"}, "role 'janitor' is not one of picker, packer, supervisor, hub"),
        ({"site": "DC 1"}, "site 'DC 1' is not valid"),
        ({"broker_url": "http://hub"}, "must start with mqtt:// or mqtts://"),
        ({"broker_url": "mqtt://hub.dc1:1883"}, "needs a TLS broker URL"),
        (
            {"broker_url": "mqtt://hub.dc1:1883", "method": "password"},
            "plain mqtt:// is allowed on loopback only",
        ),
        ({"broker_url": "mqtts://u:p@hub:8883"}, "must not carry credentials"),
        ({"valid_days": 0}, "at least one day"),
        ({"method": "token"}, "method 'token'"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    site: SiteAuthority, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "device_id": "hh-07",
        "role": "picker",
        "site": "dc1",
        "out_dir": tmp_path / "out",
        "broker_url": BROKER,
        **kwargs,
    }
    with pytest.raises(ProvisioningError, match=message.replace("+", r"\+").replace("(", r"\(")):
        site.provision(**args)  # type: ignore[arg-type]
    assert not site.paths.registry.exists() and not (tmp_path / "out").exists()


def test_first_provisioning_needs_the_site_and_a_folder_keeps_its_site(
    site: SiteAuthority, tmp_path: Path
) -> None:
    with pytest.raises(ProvisioningError, match="needs --site"):
        site.provision("hh-01", "picker", out_dir=tmp_path / "out", broker_url=BROKER)
    site.provision("hh-01", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER)
    with pytest.raises(ProvisioningError, match="belongs to site 'dc1', not 'dc2'"):
        site.provision("hh-02", "picker", "dc2", out_dir=tmp_path / "out", broker_url=BROKER)


def test_revoke_puts_the_serial_in_the_crl_and_removes_password_and_acl(
    site: SiteAuthority, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cert_dev = site.provision("hh-01", "picker", "dc1", out_dir=out, broker_url=BROKER)
    pw_dev = site.provision("hh-02", "picker", out_dir=out, method="password", broker_url=BROKER)
    site.provision("hh-03", "picker", out_dir=out, method="password", broker_url=BROKER)

    result = revoke("hh-01", site_dir=site.paths.root, reason="stolen", broker_group=None)
    assert result.serial == cert_dev.serial
    crl = x509.load_pem_x509_crl(site.paths.crl.read_bytes())
    assert [f"{r.serial_number:x}" for r in crl] == [cert_dev.serial]
    ca = pki.load_cert(site.paths.ca_cert)
    cert = pki.load_cert(cert_dev.bundle_dir / "device.crt")
    with pytest.raises(CertificateProblem, match="was revoked") as err:
        check_certificate(cert, ca, crl=crl)
    assert err.value.kind == "revoked"
    assert "user hh-01" not in site.paths.acl.read_text()

    site.revoke("hh-02")
    assert "hh-02" not in site.paths.passwd.read_text()
    assert "hh-03:" in site.paths.passwd.read_text()
    assert "user hh-02" not in site.paths.acl.read_text()
    with pytest.raises(UnknownDeviceError):
        site.check_password("hh-02", pw_dev.password or "")

    # a replacement handheld may take the id again: a new serial, the old one stays revoked
    again = site.provision("hh-01", "picker", out_dir=tmp_path / "out2", broker_url=BROKER)
    assert again.serial != cert_dev.serial
    crl = x509.load_pem_x509_crl(site.paths.crl.read_bytes())
    assert [f"{r.serial_number:x}" for r in crl] == [cert_dev.serial]


def test_revoking_an_unknown_or_revoked_device_is_refused(
    site: SiteAuthority, tmp_path: Path
) -> None:
    site.provision("hh-01", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER)
    before = snapshot(site.paths.root)
    with pytest.raises(UnknownDeviceError, match=r"hh-99 is not provisioned .*provisioned: hh-01"):
        site.revoke("hh-99")
    assert snapshot(site.paths.root) == before
    site.revoke("hh-01")
    before = snapshot(site.paths.root)
    with pytest.raises(UnknownDeviceError, match="already revoked"):
        site.revoke("hh-01")
    assert snapshot(site.paths.root) == before


def test_wrong_password_is_a_clear_error(site: SiteAuthority, tmp_path: Path) -> None:
    result = site.provision(
        "hh-05", "picker", "dc1", out_dir=tmp_path / "out", method="password", broker_url=BROKER
    )
    site.check_password("hh-05", result.password or "")
    with pytest.raises(WrongPasswordError, match="wrong password for device hh-05"):
        site.check_password("hh-05", "guess")
    with pytest.raises(ValueError, match=r"not a Mosquitto \$7\$"):
        verify_password("x", "$6$abc$def")


def test_an_expired_certificate_is_a_clear_error(site: SiteAuthority, tmp_path: Path) -> None:
    issued = NOW - dt.timedelta(days=400)
    result = site.provision(
        "hh-06",
        "picker",
        "dc1",
        out_dir=tmp_path / "out",
        broker_url=BROKER,
        now=issued,
        valid_days=30,
    )
    settings = load_settings(result.bundle_dir / "floor.toml").sync.model_copy(
        update={
            "ca_file": result.bundle_dir / "ca.crt",
            "cert_file": result.bundle_dir / "device.crt",
            "key_file": result.bundle_dir / "device.key",
        }
    )
    check_device_identity(settings, "hh-06", now=issued + dt.timedelta(days=1))
    with pytest.raises(CertificateProblem, match="certificate of hh-06 expired on") as err:
        check_device_identity(settings, "hh-06", now=NOW)
    assert err.value.kind == "expired" and "floor-hub provision hh-06" in str(err.value)


def test_a_device_clock_far_behind_says_so(site: SiteAuthority, tmp_path: Path) -> None:
    result = site.provision(
        "hh-09", "picker", "dc1", out_dir=tmp_path / "out", broker_url=BROKER, now=NOW
    )
    settings = load_settings(result.bundle_dir / "floor.toml").sync.model_copy(
        update={
            "ca_file": result.bundle_dir / "ca.crt",
            "cert_file": result.bundle_dir / "device.crt",
            "key_file": result.bundle_dir / "device.key",
        }
    )
    dead_rtc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(CertificateProblem, match="the device clock is far off") as err:
        check_device_identity(settings, "hh-09", now=dead_rtc)
    assert err.value.kind == "not_yet_valid"
    assert "this clock says 1970-01-01 00:00 UTC" in str(err.value)
    # a handheld whose clock is hours behind is still accepted
    check_device_identity(settings, "hh-09", now=NOW - dt.timedelta(hours=20))


def test_foreign_ca_and_mismatched_files(tmp_path: Path) -> None:
    a = SiteAuthority(tmp_path / "a", broker_group=None)
    b = SiteAuthority(tmp_path / "b", broker_group=None)
    ra = a.provision("hh-01", "picker", "dc1", out_dir=tmp_path / "oa", broker_url=BROKER)
    rb = b.provision("hh-01", "picker", "dc9", out_dir=tmp_path / "ob", broker_url=BROKER)
    foreign = pki.load_cert(rb.bundle_dir / "device.crt")
    with pytest.raises(CertificateProblem, match="not issued by this site's CA") as err:
        check_certificate(foreign, pki.load_cert(ra.bundle_dir / "ca.crt"))
    assert err.value.kind == "foreign_ca"
    sync = load_settings(ra.bundle_dir / "floor.toml").sync.model_copy(
        update={
            "ca_file": ra.bundle_dir / "ca.crt",
            "cert_file": ra.bundle_dir / "device.crt",
            "key_file": rb.bundle_dir / "device.key",
        }
    )
    with pytest.raises(CertificateProblem, match="is not the key of certificate"):
        check_device_identity(sync, "hh-01")
    with pytest.raises(CertificateProblem, match="does not exist"):
        check_device_identity(sync.model_copy(update={"cert_file": tmp_path / "nope.crt"}), "hh-01")


def test_a_damaged_registry_is_named(site: SiteAuthority, tmp_path: Path) -> None:
    site.paths.root.mkdir(parents=True)
    site.paths.registry.write_text("{not json")
    with pytest.raises(ProvisioningError, match=r"registry\.json is damaged"):
        site.provision("hh-01", "picker", out_dir=tmp_path / "out", broker_url=BROKER)


def test_module_functions_and_broker_certificate(tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    provision(
        "hh-01",
        "picker",
        "dc1",
        site_dir=site_dir,
        out_dir=tmp_path / "out",
        broker_url=BROKER,
        broker_group=None,
    )
    authority = SiteAuthority(site_dir, broker_group=None)
    cert_path, key_path = authority.issue_broker_certificate(["hub.dc1.example"], ["127.0.0.1"])
    cert = pki.load_cert(cert_path)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["hub.dc1.example"]
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o640
    with pytest.raises(ProvisioningError, match="not an IP address"):
        authority.issue_broker_certificate([], ["hub"])
    assert os.access(authority.refresh_crl(), os.R_OK)
    bundle_toml = tomllib.loads((tmp_path / "out" / "hh-01" / "floor.toml").read_text())
    assert bundle_toml["sync"]["key_file"] == "/etc/floor/device.key"
