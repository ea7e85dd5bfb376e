#!/usr/bin/env bash
# Writes the golden v1 repositories that tests/Baton.Cli.Tests/Format/GoldenRepositoryTests.cs reads: a plain one
# and one encrypted with the passphrase in passphrase.txt, each with two runs, float32/bf16 chunks (codecs 2 and 3),
# a fence (a writer killed with its lease held, then taken over) and a tag. The source trees come from a seeded
# generator (make-sources.py), so they are the same on every run; the repositories differ in their random ids,
# nonces and times, which is why they are checked in and never regenerated casually: a change that breaks reading
# them breaks every repository users already have.
#
#   tests/golden/make-golden.sh [BATON_DLL]     (default: the CLI built beside the CLI tests)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dll="${1:-$here/../Baton.Cli.Tests/bin/Release/net10.0/baton.dll}"
baton() { dotnet "$dll" "$@"; }

rm -rf "$here/sources" "$here/v1-plain" "$here/v1-encrypted" "$here/expected"
/usr/bin/python3 "$here/make-sources.py" "$here/sources"
mkdir -p "$here/expected"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A writer killed with its lease held (its trainer never checkpoints), then one that takes the run over and stops at
# once: the run's highest manifest is the second writer's fence.
take_over() {
  local store="$1" run="$2"; shift 2
  local before; before="$(find "$store/runs" -path '*/epochs/*' -type f | wc -l)"
  rm -f "$work/trainer.pid"
  dotnet "$dll" run --store "$store" --run "$run" --dir "$work/held-$run" "$@" -- sh -c "echo \$\$ > '$work/trainer.pid'; exec sleep 600" \
    >"$work/held.log" 2>&1 &
  local holder=$!
  for _ in $(seq 1 600); do
    [ -s "$work/trainer.pid" ] && [ "$(find "$store/runs" -path '*/epochs/*' -type f | wc -l)" -gt "$before" ] && break
    sleep 0.1
  done
  kill -9 "$holder"
  wait "$holder" || true
  kill -9 "$(cat "$work/trainer.pid")" || true
  baton run --store "$store" --run "$run" --dir "$work/taker-$run" "$@" -- true
}

make_repository() {
  local store="$1"; shift
  baton init --store "$store" "$@"
  baton push "$here/sources/alpha-100" --store "$store" --run alpha --step 100 --quiet "$@"
  baton push "$here/sources/alpha-200" --store "$store" --run alpha --step 200 --quiet "$@"
  baton push "$here/sources/beta-5" --store "$store" --run beta --step 5 --quiet "$@"
  take_over "$store" alpha "$@"
  local first; first="$(baton ls --store "$store" --run alpha --json "$@" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
  baton tag best --store "$store" --run alpha --snapshot "$first" "$@"
  baton ls --store "$store" --json "$@" >"$here/expected/$(basename "$store").ls.json"
  rm -rf "$store/inflight"
}

make_repository "$here/v1-plain"
make_repository "$here/v1-encrypted" --password-file "$here/passphrase.txt"
du -sh "$here/v1-plain" "$here/v1-encrypted"
