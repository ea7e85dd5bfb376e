#!/usr/bin/env bash
# Installs the real servers and tools the tests start, when they are missing. Idempotent and quiet when all is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_packages=()
need_apt() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }
# (stores add their tools here)
need_apt node nodejs
need_apt npm npm
[ -x /usr/sbin/sshd ] || apt_packages+=(openssh-server)   # the SFTP store's tests start a real sshd
need_apt ssh-keygen openssh-client
need_apt chromium chromium                                 # baton report is rendered by headless Chromium in its test
need_apt rclone rclone                                     # the rclone store's tests drive the real rclone
need_apt script bsdutils                                   # the live progress bar is tested on a pseudo-terminal made by script(1)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import torch, pytest" 2>/dev/null || apt_packages+=(python3 python3-torch python3-pytest)  # real Python trainers and the Python package's tests
# tools/baton-read.py (the reader written from docs/FORMAT.md) runs on Debian's Python with these modules
/usr/bin/python3 -c 'import zstandard' >/dev/null 2>&1 || apt_packages+=(python3-zstandard)
/usr/bin/python3 -c 'import xxhash' >/dev/null 2>&1 || apt_packages+=(python3-xxhash)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || apt_packages+=(python3-cryptography)
/usr/bin/python3 -c 'import argon2' >/dev/null 2>&1 || apt_packages+=(python3-argon2)
need_apt faketime faketime                                 # prune and lease tests shift a client clock
need_apt unshare util-linux                                # tests run a writer in another pid namespace
[ -x /usr/sbin/slurmctld ] || apt_packages+=(slurmctld)     # a real SLURM cluster on this host runs the multi-node requeue tests
[ -x /usr/sbin/slurmd ] || apt_packages+=(slurmd)
need_apt sbatch slurm-client
[ -x /usr/sbin/munged ] || apt_packages+=(munge)             # SLURM's authentication daemon

if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${apt_packages[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# Servers from npm go into a project-local folder, never the system: s3rver (S3) and Azurite (Azure Blob).
node_dir="$root/.build/node"
node_packages=()
need_node() { [ -x "$node_dir/node_modules/.bin/$1" ] || node_packages+=("$2"); }
need_node s3rver s3rver@3.7.1
need_node azurite-blob azurite@3.37.0

if [ ${#node_packages[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${node_packages[*]} into .build/node" >&2
  mkdir -p "$node_dir"
  [ -f "$node_dir/package.json" ] || echo '{ "name": "baton-test-servers", "private": true }' > "$node_dir/package.json"
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error "${node_packages[@]}" >/dev/null
fi
