#!/usr/bin/env bash
# test/ipvs/run-in-uml.sh — run a command inside a User-Mode-Linux kernel that has IPVS.
#
# Why: the machines we test on run kernels without CONFIG_IP_VS, so the IPVS client and
# the LVS reconciler cannot meet a real IPVS there. Debian's user-mode-linux package ships
# a Linux 6.1 kernel as an ordinary program, with IPVS (every scheduler) built as modules.
# We boot it with the host's / as its root filesystem (hostfs), so node, the checkout,
# node_modules and ipvsadm are all at the same paths inside.
#
# Usage:  test/ipvs/run-in-uml.sh CMD [ARG...]     argv is kept exactly (no re-splitting)
#         test/ipvs/run-in-uml.sh 'SHELL COMMAND'  a single argument is run by bash -c
# The command runs as root in the guest, in the caller's cwd, with the caller's exported
# environment plus KEEPWATCH_UML_GUEST=1. ip_vs, all schedulers, veth, bridge and dummy are
# loaded; lo is up; `modprobe` works (the kernel also autoloads modules on demand).
# Guest stdout/stderr arrive on our stdout/stderr (as pipes, not a tty, like CI).
# Exit status: the command's; 124 timeout; 125 the VM failed before reporting; 130 signal.
#
# Env:  KWT_UML_TIMEOUT=600  seconds before the VM is killed (the suite budget is 10 min)
#       KWT_UML_MEM=1536M    guest RAM (a sparse file in /dev/shm, used on demand)
#       KWT_UML_VERBOSE=1    copy the guest kernel console to stderr
#       KWT_UML_KEEP=1       keep the run directory for debugging
#
# Caveat: the guest is root on a read-write view of the host's /. It has no network device
# of its own (all traffic stays on guest-internal lo/veth/bridges/netns), but whatever it
# writes to files lands on the host. Every exec/syscall is ~10x slower than native (UML
# runs guest processes under ptrace): run all IPVS tests in ONE invocation.
# Needs root, ptrace, /dev/shm, and the Debian packages installed by test/setup.sh
# (user-mode-linux, kmod, ipvsadm, iproute2). It installs nothing itself.
set -u

# ============================================================================ guest
# The kernel starts this very script as init (PID 1); the run directory comes in on the
# kernel command line as an environment variable.
if [[ $$ == 1 && -n ${KWT_UML_RUNDIR:-} ]]; then
  R=$KWT_UML_RUNDIR
  export PATH=/usr/sbin:/usr/bin:/sbin:/bin
  mount -t proc proc /proc
  mount -t sysfs sys /sys
  mount -t tmpfs -o mode=0755 run /run          # guest-private: netns bind mounts, locks
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o ptmxmode=0666 devpts /dev/pts
  mount -t tmpfs shm /dev/shm
  # devtmpfs has no /dev/fd or /dev/std*; bash process substitution and many tools use them
  ln -sfn /proc/self/fd /dev/fd
  for i in 0:stdin 1:stdout 2:stderr; do ln -sfn "fd/${i%%:*}" "/dev/${i#*:}"; done

  # The host has no /lib/modules for this kernel. Build a private module root in /run that
  # points at the UML package's modules and make both `modprobe` and the kernel's
  # request_module() use it; nothing is written to the host.
  read -r kver < /proc/sys/kernel/osrelease
  M=/run/kwt-uml
  mkdir -p "$M/lib/modules" "$M/bin"
  ln -s "/usr/lib/uml/modules/$kver" "$M/lib/modules/$kver"
  printf '#!/bin/sh\nexec /usr/sbin/modprobe -d %s "$@"\n' "$M" > "$M/bin/modprobe"
  chmod 0755 "$M/bin/modprobe"
  echo "$M/bin/modprobe" > /proc/sys/kernel/modprobe
  "$M/bin/modprobe" -a ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr \
    ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh veth bridge dummy \
    || echo "run-in-uml: loading modules failed" > /dev/console
  ip link set lo up
  echo kwt-uml > /proc/sys/kernel/hostname

  # The caller's environment, then ours on top. `source` at top level so `declare -x`
  # lines define globals.
  source "$R/env"
  export PATH="$M/bin:$PATH" KEEPWATCH_UML_GUEST=1
  unset OLDPWD
  IFS= read -r -d '' dir < "$R/cwd"
  cd "$dir" || { echo "run-in-uml: cannot cd to $dir" > /dev/console; cd /; }

  # Consoles 1 and 2 are wired (by the host side) to its stdout and stderr. Programs get
  # FIFOs, and a `cat` per stream copies them to the consoles: a pipe, not a tty, so
  # tools behave as they would in CI. Raw mode: no \n -> \r\n translation.
  stty -F /dev/tty1 raw -echo; stty -F /dev/tty2 raw -echo
  mkfifo "$M/out" "$M/err"
  cat "$M/out" > /dev/tty1 & relay_out=$!
  cat "$M/err" > /dev/tty2 & relay_err=$!

  bash "$R/cmd" < /dev/null > "$M/out" 2> "$M/err"
  rc=$?

  # Whatever the command left behind (servers in namespaces, daemons) would keep the
  # FIFOs open forever: TERM everything but us and the relays, then KILL. Builtins only
  # where possible, forks are expensive under UML.
  survivors() {
    left=()
    local d p
    for d in /proc/[0-9]*; do
      p=${d#/proc/}
      [[ $p == 1 || $p == "$relay_out" || $p == "$relay_err" ]] && continue
      [[ -e $d/exe ]] && left+=("$p")          # kernel threads have no exe link
    done
  }
  survivors; ((${#left[@]})) && kill -TERM "${left[@]}" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do survivors; ((${#left[@]})) || break; sleep 0.1; done
  ((${#left[@]})) && kill -KILL "${left[@]}" 2>/dev/null
  wait "$relay_out" "$relay_err"
  stty -F /dev/tty1 raw; stty -F /dev/tty2 raw     # tcsetattr waits for the output to drain
  echo "$rc" > "$R/rc"
  sync
  echo o > /proc/sysrq-trigger                      # power off: linux.uml exits
  sleep 30
  exit "$rc"
fi

# ============================================================================ host
fail() { echo "run-in-uml: $*" >&2; exit 125; }
if [[ $# -eq 0 || $1 == -h || $1 == --help ]]; then
  sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
[[ $(id -u) == 0 ]] || fail "needs root (UML's hostfs root and netns setup)"
for bin in linux.uml modprobe ipvsadm ip timeout stty; do
  command -v "$bin" > /dev/null 2>&1 || fail "'$bin' is missing: run test/setup.sh"
done

self=$(readlink -f "$0")
R=$(mktemp -d "${TMPDIR:-/tmp}/kwt-uml.XXXXXX") || fail "mktemp failed"
[[ $self$R != *[[:space:]]* ]] || fail "paths with whitespace are not supported: $self $R"
trap '[[ ${KWT_UML_KEEP:-0} == 1 ]] && echo "run-in-uml: kept $R" >&2 || rm -rf "$R"' EXIT

# The command file is a bash script: one argument = a shell command line; several = argv.
if [[ $# -eq 1 ]]; then printf '%s\n' "$1" > "$R/cmd"
else printf '%q ' "$@" > "$R/cmd"; echo >> "$R/cmd"; fi
printf '%s' "$PWD" > "$R/cwd"
export -p > "$R/env"

console=$R/console.log
: > "$console"
if [[ ${KWT_UML_VERBOSE:-0} == 1 ]]; then tail -n +1 -f "$console" >&2 & tailer=$!; fi

# fd 5/6 carry the guest's consoles 1/2 to our stdout/stderr; the kernel's own console and
# linux.uml's messages go to the log. uml_dir keeps UML from creating ~/.uml.
timeout -k 5 "${KWT_UML_TIMEOUT:-600}" linux.uml \
  mem="${KWT_UML_MEM:-1536M}" rootfstype=hostfs rootflags=/ rw init="$self" \
  quiet panic=1 noreboot uml_dir="$R" umid=kwt \
  con=null ssl=null con0=null,fd:1 con1=null,fd:5 con2=null,fd:6 \
  KWT_UML_RUNDIR="$R" \
  5>&1 6>&2 >> "$console" 2>&1 < /dev/null &
vm=$!
# `timeout` puts itself in its own process group, so a terminal ^C would not reach it:
# forward the signals we get.
stopped=0
trap 'stopped=1; kill -TERM "$vm" 2>/dev/null' INT TERM HUP
while :; do
  wait "$vm"; vmrc=$?
  kill -0 "$vm" 2>/dev/null || break
done
kill -KILL -- "-$vm" 2>/dev/null                   # leftovers of a crashed VM (its group)
[[ -n ${tailer:-} ]] && { sleep 0.2; kill "$tailer" 2>/dev/null; }
((stopped)) && { echo "run-in-uml: interrupted" >&2; exit 130; }
if [[ -s $R/rc ]]; then
  read -r rc < "$R/rc"
  exit "$rc"
fi
if [[ $vmrc == 124 || $vmrc == 137 ]]; then
  echo "run-in-uml: timed out after ${KWT_UML_TIMEOUT:-600}s" >&2; rc=124
else
  echo "run-in-uml: the VM exited ($vmrc) without a status from the command" >&2; rc=125
fi
echo "---- tail of the guest console ($console):" >&2
tail -n 30 "$console" >&2
exit "$rc"
