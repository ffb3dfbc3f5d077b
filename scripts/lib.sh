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

# Installs the PyPI packages given (name==version) that are missing or at
# another version. The tests cross-check against them as independent
# implementations: OAuth 1.0a signing, twitter-text weighted length,
# Telegram MarkdownV2 escaping, Stripe webhook signatures, and the admin
# API's OpenAPI document (docs/admin-api.yaml).
ensure_python_packages() {
    local missing=()
    for requirement in "$@"; do
        local name="${requirement%%==*}" version="${requirement##*==}"
        [ "$(python3 -m pip show "$name" 2>/dev/null | awk '/^Version:/ {print $2}')" = "$version" ] || missing+=("$requirement")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing from PyPI: ${missing[*]}"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
}

CROSS_CHECK_PYTHON_PACKAGES=(oauthlib==4.0.1 twitter-text-parser==3.0.0 python-telegram-bot==22.8 stripe==16.1.0
    openapi-spec-validator==0.9.0)
