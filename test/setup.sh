#!/usr/bin/env bash
# Installs from Debian what the suites need, only when missing. Under CI=true nothing
# is skipped for a missing tool, so a failed install is a failed run.
set -euo pipefail
declare -A need=(
  [keepalived]=keepalived [snmpd]=snmpd [snmpwalk]=snmp [snmptrapd]=snmptrapd
  [promtool]=prometheus [prometheus]=prometheus [tcpdump]=tcpdump [ip]=iproute2
  [linux.uml]=user-mode-linux [ipvsadm]=ipvsadm [arping]=iputils-arping [pkill]=procps
  [ping]=iputils-ping [curl]=curl [openssl]=openssl
  [modprobe]=kmod [stty]=coreutils
)
missing=()
for bin in "${!need[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/bin/$bin" ] || [ -x "/usr/sbin/$bin" ] || missing+=("${need[$bin]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing from Debian: $pkgs"
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to install $pkgs" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
# Debian starts services on install; tests start their own instances on their own
# sockets, so stop the packaged daemons if the install just started them.
for svc in keepalived snmpd snmptrapd prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
  fi
done
