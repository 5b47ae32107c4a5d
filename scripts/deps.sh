#!/bin/sh
# Dependency helper for the Makefile.
#   deps.sh --check-build   print one line naming the missing Debian package(s), or nothing
#   deps.sh --install       as root on Debian, install every missing build and test package
#                           (NO_DEPS=1 skips; non-root only reports)
set -u

# pkg-config module -> Debian package
BUILD_PKGS="libcurl:libcurl4-openssl-dev libcrypto:libssl-dev libxml-2.0:libxml2-dev
pacemaker-cib:pacemaker-dev pacemaker:pacemaker-dev cmocka:libcmocka-dev"

# Debian packages the tests, the demo and the benchmarks use
TEST_PKGS="build-essential pkg-config libcurl4-openssl-dev libssl-dev libxml2-dev pacemaker-dev
libcmocka-dev python3 python3-pytest python3-boto3 awscli pacemaker corosync crmsh
resource-agents fence-agents iproute2 iputils-ping procps psmisc clang libclang-rt-14-dev llvm
libxml2-utils valgrind openssl util-linux kmod debhelper lintian curl"

missing_build() {
    out=""
    for pair in $BUILD_PKGS; do
        mod=${pair%%:*}; pkg=${pair#*:}
        if ! pkg-config --exists "$mod" 2>/dev/null; then
            case " $out " in *" $pkg "*) ;; *) out="$out $pkg" ;; esac
        fi
    done
    echo "$out"
}

case "${1:-}" in
--check-build)
    if ! command -v pkg-config >/dev/null 2>&1; then
        echo "pkg-config not found: install the Debian package pkg-config (or run 'make deps' as root)"
        exit 0
    fi
    m=$(missing_build)
    [ -n "$m" ] && echo "missing build dependencies: install Debian package(s)$m (or run 'make deps' as root)"
    exit 0
    ;;
--install)
    [ "${NO_DEPS:-0}" = 1 ] && exit 0
    need=""
    for p in $TEST_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
    done
    [ -z "$need" ] && exit 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: missing Debian packages:$need (run as root to install, NO_DEPS=1 to skip)" >&2
        exit 0
    fi
    echo "deps: installing$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || exit 1
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $need >/dev/null || exit 1
    ;;
*)
    echo "usage: $0 --check-build | --install" >&2
    exit 2
    ;;
esac
