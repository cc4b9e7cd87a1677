import subprocess
import sys
from pathlib import Path

import pytest

from labcal_edge.cli import main


def test_check_config_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[station]\ntenant = "acme"\nid = "s1"\n')
    assert main(["check-config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    tls = tmp_path / "tls.toml"
    tls.write_text(f'[station]\ntenant = "a"\nid = "s"\n[mqtt.tls]\nca_file = "{tmp_path}/ca"\n')
    assert main(["check-config", str(tls)]) == 0  # files may be installed later: a warning
    assert f"mqtt.tls.ca_file {tmp_path}/ca does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[station]\ntenant = "acme"\nid = "s1"\n[outbox]\npolicy = "maybe"\n')
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert "outbox.policy" in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("labcal-edge")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("labcal-edge ")
