#!/usr/bin/env bash
# One-command toolchain setup for the Torvyn toolkit. Idempotent; never hangs.
#
# Makes `wasm32-wasip2` component builds work on this machine:
#   1. If rustup already has the wasm32-wasip2 standard library, nothing else is needed.
#   2. Otherwise try `rustup target add wasm32-wasip2`, bounded by a timeout.
#   3. Otherwise install the Debian build-std fallback (see CONTRIBUTING.md):
#      rustc-web, rust-web-src, wasi-libc and lld-19, plus a `wasm-ld` link in
#      .torvyn/bin (a directory this project controls).
#   4. Installs cargo-generate, which the template tests run.
#   5. Installs Debian's chromium where apt-get works, for the test that opens
#      the HTML report headless (it skips, saying so, without it; never fatal).
#
# Environment:
#   TORVYN_SETUP_TIMEOUT    seconds for each network step (default 120)
#   TORVYN_SETUP_FALLBACK=1 also install the Debian fallback where rustup's target works
#   TORVYN_SKIP_CARGO_GENERATE=1 do not install cargo-generate (the template tests need it)
#   TORVYN_SKIP_CHROMIUM=1  do not install chromium (the report test then skips its browser part)
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

link_wasm_ld() {
    mkdir -p "$root/.torvyn/bin"
    ln -sf /usr/bin/wasm-ld-19 "$root/.torvyn/bin/wasm-ld"
    say "linked .torvyn/bin/wasm-ld -> /usr/bin/wasm-ld-19 (for manual fallback builds; see CONTRIBUTING.md)"
}

install_and_check_fallback() {
    if fallback_ready; then
        say "the Debian build-std fallback is installed"
    else
        as_root bash -c "$(declare -f install_fallback say); step_timeout=$step_timeout; install_fallback" ||
            say "the fallback install failed or timed out"
        fallback_ready || { say "error: the Debian build-std fallback did not install; see CONTRIBUTING.md"; return 1; }
    fi
    link_wasm_ld
}

# The wasm32-wasip2 target: rustup's if it is there or can be added quickly, else the fallback.
if have_rustup_target; then
    say "rustup's wasm32-wasip2 target is installed"
elif command -v rustup >/dev/null &&
    timeout "$step_timeout" rustup target add wasm32-wasip2 >/dev/null 2>&1 && have_rustup_target; then
    say "added rustup's wasm32-wasip2 target"
else
    say "rustup cannot add wasm32-wasip2 here (no download within ${step_timeout} s); using the Debian build-std fallback"
    install_and_check_fallback || exit 1
fi
# TORVYN_SETUP_FALLBACK=1 installs the fallback as well, so its tests run on a rustup machine too.
if [ "${TORVYN_SETUP_FALLBACK:-0}" = 1 ] && ! fallback_ready; then
    install_and_check_fallback || exit 1
fi

# cargo-generate, for the template tests. 0.23.14 is the newest whose locked
# dependencies build with rustc 1.95 (0.26 needs 1.97). About 5 minutes once.
cargo_generate_version=0.23.14
if [ "${TORVYN_SKIP_CARGO_GENERATE:-0}" = 1 ]; then
    say "skipping cargo-generate (TORVYN_SKIP_CARGO_GENERATE=1)"
elif cargo generate --version 2>/dev/null | grep -q "$cargo_generate_version"; then
    say "cargo-generate $cargo_generate_version is installed"
else
    say "installing cargo-generate $cargo_generate_version (locked; about 5 minutes, once)"
    timeout $((step_timeout * 15)) cargo install --quiet --locked cargo-generate --version "$cargo_generate_version" ||
        { say "error: cargo-generate did not install (see the cargo output above)"; exit 1; }
fi

# Chromium, for the HTML report's headless test (crates/torvyn-testkit-cli/tests/pictures.rs).
# Optional: without it that test checks the report's text and skips the browser.
if [ "${TORVYN_SKIP_CHROMIUM:-0}" = 1 ]; then
    say "skipping chromium (TORVYN_SKIP_CHROMIUM=1)"
elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    say "chromium is installed"
elif command -v apt-get >/dev/null &&
    as_root timeout $((step_timeout * 5)) env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq chromium >/dev/null 2>&1; then
    say "installed chromium (for the HTML report's headless test)"
else
    say "chromium is not installed and could not be (no apt-get, no root, or no download): the HTML report's browser test will skip, saying so"
fi

say "done"
