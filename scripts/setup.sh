#!/usr/bin/env bash
# One-command toolchain setup for the Torvyn toolkit. Idempotent; never hangs.
#
# Makes `wasm32-wasip2` component builds work on this machine:
#   1. If rustup already has the wasm32-wasip2 standard library, nothing else is needed.
#   2. Otherwise try `rustup target add wasm32-wasip2`, bounded by a timeout.
#   3. Otherwise install the Debian build-std fallback (see CONTRIBUTING.md):
#      rustc-web, rust-web-src, wasi-libc and lld-19, plus a `wasm-ld` link in
#      .torvyn/bin (a directory this project controls).
# Also installs the cargo tools the tests use (cargo-generate for the template tests).
#
# Environment:
#   TORVYN_SETUP_TIMEOUT   seconds for each network step (default 120)
#   TORVYN_SKIP_CARGO_TOOLS=1  do not install cargo-generate
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
step_timeout="${TORVYN_SETUP_TIMEOUT:-120}"
say() { printf 'setup: %s\n' "$*"; }

have_rustup_target() {
    local libdir
    libdir="$(rustc --print target-libdir --target wasm32-wasip2 2>/dev/null)" || return 1
    compgen -G "$libdir/libstd-*.rlib" >/dev/null
}

fallback_ready() {
    [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] &&
        [ -f /usr/lib/wasm32-wasi/libc.a ] && [ -x /usr/bin/wasm-ld-19 ] &&
        [ -x /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld ]
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root for: $*"; return 1; fi
}

install_fallback() {
    say "installing the Debian build-std fallback (rustc-web rust-web-src wasi-libc lld-19)"
    export DEBIAN_FRONTEND=noninteractive
    timeout "$step_timeout" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        say "apt-get update failed or timed out; trying the install with the current lists"
    timeout $((step_timeout * 5)) env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq rustc-web rust-web-src wasi-libc lld-19 >/dev/null
}

# 1-3: the wasm32-wasip2 target.
if have_rustup_target; then
    say "rustup's wasm32-wasip2 target is installed"
else
    if command -v rustup >/dev/null &&
        timeout "$step_timeout" rustup target add wasm32-wasip2 >/dev/null 2>&1 && have_rustup_target; then
        say "added rustup's wasm32-wasip2 target"
    elif fallback_ready; then
        say "the Debian build-std fallback is installed"
    else
        say "rustup cannot add wasm32-wasip2 here; using the Debian build-std fallback"
        as_root bash -c "$(declare -f install_fallback say); step_timeout=$step_timeout; install_fallback"
        fallback_ready || { say "error: the fallback packages did not install; see CONTRIBUTING.md"; exit 1; }
    fi
    mkdir -p "$root/.torvyn/bin"
    ln -sf /usr/bin/wasm-ld-19 "$root/.torvyn/bin/wasm-ld"
    say "linked .torvyn/bin/wasm-ld -> /usr/bin/wasm-ld-19"
fi

# Cargo tools.
if [ "${TORVYN_SKIP_CARGO_TOOLS:-0}" != 1 ]; then
    if command -v cargo-generate >/dev/null; then
        say "cargo-generate is installed"
    else
        say "installing cargo-generate (locked)"
        timeout $((step_timeout * 10)) cargo install --locked --quiet cargo-generate@0.26.0 ||
            say "warning: cargo-generate did not install; the template tests will say so"
    fi
fi
say "done"
