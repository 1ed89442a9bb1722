# shellcheck shell=bash
# Sourced by quickstart.sh and test.sh: make (or reuse) the project virtual environment and install calicotool
# into it. Never installs into the interpreter that created it (works with Debian's PEP 668 /usr/bin/python3).
#   ensure_venv [EXTRAS]     e.g. ensure_venv test  ->  pip install -e '.[test]' into $VENV
# Settings: PYTHON (interpreter that creates the venv, default python3), CALICOTOOL_VENV (default .venv).
VENV=${CALICOTOOL_VENV:-.venv}

_make_venv() {
  local py=${PYTHON:-python3}
  if ! command -v "$py" >/dev/null 2>&1; then
    echo "$0: $py not found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)" >&2
    exit 2
  fi
  if "$py" -m venv "$VENV" >/dev/null 2>&1; then return 0; fi
  rm -rf "$VENV"
  # Debian/Ubuntu split venv (ensurepip) into python3-venv.
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$0: '$py -m venv' is not available: installing python3-venv with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    "$py" -m venv "$VENV" && return 0
    rm -rf "$VENV"
  fi
  echo "$0: cannot create the virtual environment $VENV with '$py -m venv'." >&2
  echo "  On Debian/Ubuntu: sudo apt-get install python3-venv   (then run this script again)" >&2
  exit 2
}

# True when $VENV has calicotool installed from this checkout (an editable install of it). -I: not from the
# current directory, which holds the source tree itself.
_installed_here() {
  [ -x "$VENV/bin/calicotool" ] || return 1
  "$VENV/bin/python" -I - "$PWD" >/dev/null 2>&1 <<'PY'
import importlib.metadata, pathlib, sys
importlib.metadata.version("calicotool")
import calicotool
sys.exit(pathlib.Path(calicotool.__file__).resolve().parents[1] != pathlib.Path(sys.argv[1]).resolve())
PY
}

ensure_venv() {
  local extras=${1:-} spec=. sha stamp_sha="" stamp_extras=""
  [ -n "$extras" ] && spec=".[$extras]"
  [ -x "$VENV/bin/python" ] || _make_venv
  # Re-install only when needed, so repeat runs stay fast: not installed from this checkout, pyproject.toml
  # changed since the last install, or extras asked for that the last install did not include.
  sha=$(sha256sum pyproject.toml | cut -c1-16)
  if [ -f "$VENV/.calicotool-install" ]; then read -r stamp_sha stamp_extras < "$VENV/.calicotool-install" || true; fi
  if ! _installed_here || { [ -n "$stamp_sha" ] && [ "$stamp_sha" != "$sha" ]; } \
     || { [ -n "$extras" ] && { [ "$stamp_sha" != "$sha" ] || [[ ",$stamp_extras," != *",$extras,"* ]]; }; }; then
    PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --quiet -e "$spec"
    if [ "$stamp_sha" = "$sha" ] && [ -z "$extras" ]; then extras=$stamp_extras; fi  # kept what was there
    echo "$sha ${extras}" > "$VENV/.calicotool-install"
  fi
  PATH="$(cd "$VENV" && pwd)/bin:$PATH"
  export PATH
}

venv_hint() {
  echo "calicotool is installed in the virtual environment $VENV (not the system Python)."
  echo "Use it with:  . $VENV/bin/activate    (or run $VENV/bin/calicotool directly)"
}
