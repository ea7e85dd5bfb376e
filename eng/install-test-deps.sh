#!/usr/bin/env bash
# Installs the real servers and tools the tests start, when they are missing. Idempotent and quiet when all is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_packages=()
need_apt() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }
# (stores add their tools here)
[ -x /usr/sbin/sshd ] || apt_packages+=(openssh-server)   # the SFTP store's tests start a real sshd
need_apt ssh-keygen openssh-client
need_apt rclone rclone                                     # the rclone store's tests drive the real rclone

if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${apt_packages[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi
