# Shared by scripts/run and scripts/test. Source it; do not run it.

# Installs the Debian packages given that are not installed yet.
ensure_apt_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The system libraries the host links or will link (see `alphaplus doctor`).
HOST_PACKAGES=(zlib1g-dev libsqlite3-dev libhiredis-dev libssl-dev libcurl4-openssl-dev)
