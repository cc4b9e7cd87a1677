"""``demo up`` wipes only a data dir it made itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLOUD = str(Path(sys.executable).parent / "labcal-cloud")


def test_a_foreign_non_empty_data_dir_is_refused_and_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.tex"
    precious.write_text("years of work")
    done = subprocess.run(
        [CLOUD, "demo", "up", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "not made by the demo" in done.stdout
    assert precious.read_text() == "years of work"
