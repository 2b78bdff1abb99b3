"""The README's two commands on a machine with only python3: scripts/venv.sh makes the project's
virtualenv, falling back to `venv --without-pip` + ensurepip where `python3 -m venv` cannot make
pip (Debian without python3-venv), and says what to install when nothing works."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fake_python(tmp_path: Path, refuse: str) -> Path:
    """A python3 whose `-m venv` fails like Debian's without python3-venv ('ensurepip is not
    available'): `refuse="pip"` only when venv is asked to install pip, `refuse="all"` always."""
    script = tmp_path / "python3"
    allow_without_pip = "true" if refuse == "pip" else "false"
    script.write_text(f"""#!/bin/bash
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  case " $* " in
    *" --without-pip "*) {allow_without_pip} || {{ echo "venv refused" >&2; exit 1; }} ;;
    *) echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1 ;;
  esac
fi
exec {sys.executable} "$@"
""")
    script.chmod(0o755)
    return script


def make_venv(tmp_path: Path, python: Path) -> subprocess.CompletedProcess:
    venv = tmp_path / "venv"
    return subprocess.run(["bash", "-c", f'. scripts/venv.sh && make_venv "$PYTHON" "{venv}"'], cwd=ROOT,
                          env={**os.environ, "PYTHON": str(python), "VENV_NO_APT": "1"},
                          capture_output=True, text=True, timeout=240)


def test_scripts_parse():
    for name in ("run.sh", "test.sh", "venv.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / name)]).returncode == 0, name


def test_a_venv_without_pip_falls_back_to_ensurepip(tmp_path):
    out = make_venv(tmp_path, fake_python(tmp_path, "pip"))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "--without-pip" in out.stdout
    python = str(tmp_path / "venv" / "bin" / "python")
    pip = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    # pip run by the venv's python installs into the venv
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True).stdout
    assert prefix.strip() == str(tmp_path / "venv")


def test_no_venv_at_all_says_what_to_install(tmp_path):
    fake = fake_python(tmp_path, "all")
    out = make_venv(tmp_path, fake)
    assert out.returncode != 0
    assert "apt-get install python3-venv" in out.stderr
    assert not (tmp_path / "venv").exists()
