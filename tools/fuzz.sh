#!/usr/bin/env bash
# Run every cargo-fuzz target of rust/fuzz for a bounded time: tools/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
seconds="${1:-30}"
cd "$(dirname "$0")/.."
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (crates.io)"
    cargo install --locked cargo-fuzz
fi
# libFuzzer instrumentation needs nightly flags; use a nightly toolchain when one is installed,
# otherwise let the stable compiler accept them.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    toolchain=()
    export RUSTC_BOOTSTRAP=1
fi
for target in $(cargo fuzz list --fuzz-dir rust/fuzz); do
    echo "== fuzzing ${target} for ${seconds}s"
    cargo "${toolchain[@]}" fuzz run --fuzz-dir rust/fuzz "${target}" -- -max_total_time="${seconds}" -max_len=4096
done
