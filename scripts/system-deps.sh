#!/usr/bin/env bash
# Installs the Debian packages the platform and its tests need, when they are missing:
# PostgreSQL (tests run on a real server), Chromium and CJK fonts (browser tests), Node/npm (assets).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)  # Spark engine of the trace store (tests)
[ "${1:-}" = "--runtime" ] && need=($(printf '%s\n' "${need[@]}" | grep -x -e nodejs -e npm || true))
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
