from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from labcal_cloud.stations.passwords import mosquitto_hash, verify_mosquitto_hash
from labcal_cloud.stations.provisioning import acl_entries, acl_file, edge_config, password_line
from labcal_cloud.storage.ports import StationRecord
from labcal_shared.errors import TopicError


def test_hash_format_and_round_trip():
    h = mosquitto_hash("s3cret", b"\x01" * 12)
    assert h == mosquitto_hash("s3cret", b"\x01" * 12)
    parts = h.split("$")
    assert parts[:3] == ["", "7", "101"]
    assert verify_mosquitto_hash("s3cret", h)
    assert not verify_mosquitto_hash("other", h)


def test_verifies_a_hash_written_by_mosquitto_passwd(tmp_path: Path):
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        pytest.fail("mosquitto_passwd is needed (apt-get install mosquitto)")
    f = tmp_path / "pw"
    subprocess.run(
        [binary, "-c", "-b", str(f), "st-1", "pa55word"], check=True, capture_output=True
    )
    user, _, encoded = f.read_text().strip().partition(":")
    assert user == "st-1"
    assert verify_mosquitto_hash("pa55word", encoded)
    assert not verify_mosquitto_hash("pa55word!", encoded)


@pytest.mark.parametrize(
    ("password", "salt", "match"),
    [("", b"0" * 12, "empty"), ("x", b"0" * 5, "12 bytes")],
)
def test_hash_refuses_bad_input(password, salt, match):
    with pytest.raises(ValueError, match=match):
        mosquitto_hash(password, salt)


def test_acl_limits_a_station_to_its_prefix():
    acl = acl_entries("acme", "st-1")
    assert acl.splitlines()[0] == "user st-1"
    topics = [line.split(" ", 2)[2] for line in acl.splitlines()[1:]]
    assert all(t.startswith("labcal/v1/acme/st-1/") for t in topics)
    assert "topic read labcal/v1/acme/st-1/cmd" in acl
    assert "#" not in acl
    assert "+" not in acl


def test_identifiers_with_wildcards_are_refused():
    with pytest.raises(TopicError):
        acl_entries("acme", "st/#")
    with pytest.raises(TopicError):
        password_line("a:b", "$7$...")


def test_whole_files_and_edge_config():
    records = [StationRecord("st-1", "acme", "$7$1$a$b"), StationRecord("st-2", "beta", "$7$1$c$d")]
    text = acl_file(records, ["ingest"])
    assert text.startswith("user ingest\ntopic read labcal/v1/#\n")
    assert "user st-2\ntopic write labcal/v1/beta/st-2/usage" in text
    cfg = edge_config("acme", "st-1", "pw", host="h", port=8883, ca_file=None)
    assert 'username = "st-1"' in cfg
    assert "[mqtt.tls]" not in cfg
