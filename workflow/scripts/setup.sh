#!/usr/bin/env bash
# One-step set-up for grokscope on a fresh Debian machine (or any Linux with Python >= 3.11).
#
#   bash workflow/scripts/setup.sh          # runtime: .venv with torch + the pipeline tools
#   bash workflow/scripts/setup.sh --dev    # also the test tools (pytest, ruff, duckdb, the
#                                           # SLURM executor plugin, dvc-s3, moto)
#
# Environment:
#   GROKSCOPE_TORCH   pip requirement for torch (default "torch==2.13.0", a CPU build).
#                     GPU users: e.g. GROKSCOPE_TORCH="torch==2.13.0" with
#                     PIP_INDEX_URL pointing at the CUDA wheel index of their choice.
#   GROKSCOPE_VENV    where to create the virtual environment (default .venv)
#   PYTHON            interpreter to build the venv from (default python3)
set -euo pipefail
cd "$(dirname "$0")/../.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"
venv="${GROKSCOPE_VENV:-.venv}"
torch_req="${GROKSCOPE_TORCH:-torch==2.13.0}"
python="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*" >&2; }
# apt_install WHY PACKAGE...: as root with apt, install them (status: whether that worked);
# the package lists are updated once per run.
apt_updated=
apt_install() {
  local why=$1; shift
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  say "installing Debian's $* with apt ($why)"
  [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; } || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "need Python >= 3.11 as '$python' (set PYTHON=...)"; exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  apt_install "the venv module" python3-venv ||
    { say "the venv module is missing: install your distribution's python3-venv package"; exit 1; }
fi

[ -x "$venv/bin/python" ] || { say "creating $venv"; "$python" -m venv "$venv"; }
# --no-compile: pip would byte-compile package by package on one core; compileall does it
# below, once, on every core.
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q --no-compile)
say "installing $torch_req"
"${pip[@]}" "$torch_req"
say "installing grokscope$extras and its tools"
"${pip[@]}" -e ".$extras"
# Byte-compile the installed packages now, once. Python would compile a module on first
# import and cache it, but not where PYTHONDONTWRITEBYTECODE is set (common in containers and
# CI images): there every pipeline job and tool start would compile torch, pandas, Snakemake
# and DVC from source again, which more than doubles what a small job costs.
say "byte-compiling the installed packages"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
# A few files are for newer Pythons only (torch's tests) and fail to compile here; nothing
# imports them, so the status is not checked.
"$venv/bin/python" -m compileall -q -j 0 "$site" >/dev/null || true

# Each figure job's browser loads plotly.js to draw its PNGs. plotly.js's cartesian bundle
# (every trace type our figures use but the table: grokscope/plots/plotlyjs.py) loads for less
# CPU than plotly's full bundle and draws the same PNGs. It comes from npm, in plotly's own
# plotly.js version; without npm the figure jobs load the full bundle.
# Where it goes, and whether the one there will be used, are grokscope's (plotlyjs.py) to say.
bundle="$("$venv/bin/python" -c 'from grokscope.plots.plotlyjs import PARTIAL_PLOTLY; print(PARTIAL_PLOTLY)')"
plotly_js="$("$venv/bin/python" -c 'from plotly.offline import get_plotlyjs_version as v; print(v())')"
if "$venv/bin/python" -c 'from grokscope.plots.plotlyjs import partial_plotly as p; raise SystemExit(p() is None)'; then
  :
elif command -v npm >/dev/null 2>&1; then
  say "installing plotly.js's cartesian bundle $plotly_js for PNG export (npm)"
  tmp="$(mktemp -d)"
  if (cd "$tmp" && npm pack --silent "plotly.js-cartesian-dist-min@$plotly_js" >/dev/null 2>&1 &&
      tar -xzf ./*.tgz package/plotly-cartesian.min.js); then
    mkdir -p "$(dirname "$bundle")" && mv "$tmp/package/plotly-cartesian.min.js" "$bundle"
  else
    say "could not fetch it with npm: figure jobs load plotly.js's full bundle (the same PNGs)"
  fi
  rm -rf "$tmp"
else
  say "npm not found: figure jobs load plotly.js's full bundle (the same PNGs, more CPU)"
fi

# kaleido >= 1 drives an installed Chrome/Chromium to render PNGs; it does not ship one. The
# figure jobs use Chromium's headless shell when it is installed (grokscope/plots/browser.py):
# the same PNGs for less CPU. The tests also drive the full browser (chromium).
find_chrome() {
  for c in "${BROWSER_PATH:-}" chromium chromium-browser google-chrome google-chrome-stable; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
  done
  return 1
}
missing=()
find_chrome >/dev/null || missing+=(chromium)
[ -n "${BROWSER_PATH:-}" ] || command -v chromium-headless-shell >/dev/null 2>&1 ||
  missing+=(chromium-headless-shell)
if [ ${#missing[@]} -gt 0 ] && ! apt_install "kaleido's browser for PNG figures" "${missing[@]}"; then
  if ! find_chrome >/dev/null; then
    say "no Chrome/Chromium found and could not apt-get install it (not root, no apt, or it"
    say "failed). PNG figures need one: install chromium and chromium-headless-shell (e.g."
    say "'sudo apt-get install chromium chromium-headless-shell'), or point BROWSER_PATH at"
    say "an existing Chrome binary, then rerun this script."
    exit 1
  fi
  say "chromium-headless-shell is not installed (could not apt-get install it): figure jobs"
  say "use the full browser, which costs more; 'sudo apt-get install chromium-headless-shell'"
fi
if [ -z "${BROWSER_PATH:-}" ] && command -v chromium-headless-shell >/dev/null 2>&1; then
  say "browser for figures: $(command -v chromium-headless-shell)"
else
  say "browser for figures: $(find_chrome)"
fi
say "done; activate with: . $venv/bin/activate"
