# Sourced by scripts/run.sh and scripts/test.sh: find Python ≥ 3.11, make the project's own
# virtualenv (.venv, or $VENV) and install the package into it, printing each step. Works on a
# fresh Debian with nothing but python3: when `python3 -m venv` cannot make pip (Debian ships
# venv's pip separately, in python3-venv) it installs python3-venv as root, or falls back to
# `venv --without-pip` + ensurepip, or to the system's pip; failing all, it says what to install.
# The venv sees the system's site-packages, so whatever is already installed is not fetched again.
# VENV (default .venv) names the folder, PYTHON the interpreter; VENV_NO_APT=1 never calls apt-get.

step() { printf '==> %s\n' "$*"; }

find_python() {
  local c
  for c in ${PYTHON:-} python3.13 python3.12 python3.11 python3 python; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

venv_hint() {
  cat >&2 <<'MSG'
Không tạo được môi trường ảo Python / could not create a Python virtualenv.
  Debian/Ubuntu:  sudo apt-get install python3-venv     (then run this command again)
  Or point PYTHON at a Python >= 3.11 that has venv and pip, e.g. PYTHON=/usr/local/bin/python3.12
MSG
}

make_venv() {  # $1 python, $2 venv folder
  local py="$1" dir="$2"
  step "Tạo môi trường ảo / creating a virtualenv: $dir ($("$py" --version 2>&1))"
  if "$py" -m venv --system-site-packages "$dir" 2>/dev/null && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$dir"
  if [ "$(id -u)" = 0 ] && [ -z "${VENV_NO_APT:-}" ] && command -v apt-get >/dev/null 2>&1; then
    local ver; ver="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    step "Cài python3-venv / installing python3-venv (apt-get)"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "python${ver}-venv" || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv || true
    if "$py" -m venv --system-site-packages "$dir" 2>/dev/null && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
      return 0
    fi
    rm -rf "$dir"
  fi
  step "venv không có pip / venv has no pip: trying --without-pip + ensurepip"
  if "$py" -m venv --system-site-packages --without-pip "$dir"; then
    if "$dir/bin/python" -m ensurepip --upgrade >/dev/null 2>&1 && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
      return 0
    fi
    if "$py" -m pip --version >/dev/null 2>&1; then  # the system's pip, installing into the venv
      step "Dùng pip của hệ thống / using the system's pip for the virtualenv"
      "$py" -m pip --python "$dir/bin/python" install --disable-pip-version-check pip && return 0
    fi
  fi
  rm -rf "$dir"
  venv_hint
  return 1
}

# ensure_venv EXTRAS: leaves $VENV_PY pointing at the virtualenv's python, package installed.
ensure_venv() {
  local extras="${1:-}" py
  VENV="${VENV:-.venv}"
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    if ! py="$(find_python)"; then
      echo "Cần Python >= 3.11 / Python >= 3.11 is needed (python3 not found or too old)." >&2
      exit 1
    fi
    rm -rf "$VENV"
    make_venv "$py" "$VENV" || exit 1
  fi
  VENV_PY="$VENV/bin/python"
  # Reinstall only when pyproject.toml (or the extras asked for) changed since the last install.
  local stamp="$VENV/.installed" want
  want="$(cksum < pyproject.toml | cut -d' ' -f1)${extras}"
  if [ ! -f "$stamp" ] || ! grep -qx -- "$want" "$stamp" 2>/dev/null; then
    step "Cài đặt gói và thư viện / installing the package and its dependencies (pip, a few minutes the first time)"
    "$VENV_PY" -m pip install --disable-pip-version-check --progress-bar on -e ".${extras}"
    echo "$want" > "$stamp"
  else
    step "Thư viện đã cài / dependencies already installed ($VENV)"
  fi
}
