# Shared helpers for scripts/run, scripts/test and scripts/build-pwa. Source it; don't run it.
# Everything here is idempotent and quick when the thing is already in place.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build outputs live outside the clone so that a fresh clone (CI) reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/printstall/target}"
WASM_TARGET_DIR="${PRINTSTALL_WASM_TARGET_DIR:-$HOME/.cache/printstall/target-wasm}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "'$*' needs root: run as root or install sudo"; fi
}

APT_UPDATED=0
# Installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

require_cargo() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs) first"
}

# The version a tool reports (`TOOL --version` prints "name X.Y.Z"), or nothing when the
# tool is missing: `|| true`, because under pipefail the failed pipeline would otherwise end
# the script (set -e) before it could install the tool.
tool_version() {
  "$@" --version 2>/dev/null | awk '{print $2}' || true
}

# The exact wasm-bindgen version Cargo.lock pins; the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Installs wasm-bindgen-cli at the version Cargo.lock pins unless it is there; a failed
# install ends with one line that says how to fix it.
ensure_wasm_bindgen() {
  local want; want="$(wasm_bindgen_version)"
  [ -n "$want" ] || die "wasm-bindgen is not in Cargo.lock"
  local have; have="$(tool_version wasm-bindgen)"
  if [ "$have" != "$want" ]; then
    require_cargo
    say "installing wasm-bindgen-cli $want${have:+ (found $have)} (about 3 minutes the first time)"
    # No --locked: the registry mirror lacks one of its locked dependencies.
    cargo install -q wasm-bindgen-cli --version "$want" --force \
      || die "wasm-bindgen-cli $want could not be installed (see above); run: cargo install wasm-bindgen-cli --version $want --force"
    [ "$(tool_version wasm-bindgen)" = "$want" ] \
      || die "wasm-bindgen $want is installed but $(command -v wasm-bindgen || echo 'no wasm-bindgen') comes first on PATH; put ~/.cargo/bin first on PATH"
  fi
}

# s3s-fs, the S3-compatible test server, pinned: newer versions need a newer rustc.
S3S_FS_VERSION=0.14.1
ensure_s3s_fs() {
  # `s3s-fs --version` prints "s3s-fs 0.14.1".
  local have; have="$(tool_version s3s-fs)"
  if [ "$have" != "$S3S_FS_VERSION" ]; then
    say "installing s3s-fs $S3S_FS_VERSION${have:+ (found $have)}, an S3-compatible server for the tests (about 2 minutes)"
    require_cargo
    cargo install -q s3s-fs --version "$S3S_FS_VERSION" --features binary --force \
      || die "s3s-fs $S3S_FS_VERSION could not be installed (see above); run: cargo install s3s-fs --version $S3S_FS_VERSION --features binary --force"
    [ "$(tool_version s3s-fs)" = "$S3S_FS_VERSION" ] \
      || die "s3s-fs $S3S_FS_VERSION is installed but $(command -v s3s-fs || echo 'no s3s-fs') comes first on PATH; put ~/.cargo/bin first on PATH"
  fi
}

# The wasm32 standard library: rustup's target where the machine has it, else Debian's
# rustc-web with its library source, compiled with build-std (see README, "Building").
wasm_uses_build_std() {
  ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'
}

ensure_wasm_toolchain() {
  if wasm_uses_build_std; then
    apt_install rustc-web rust-web-src
  fi
}

# Runs cargo for wasm32-unknown-unknown with whichever toolchain works here.
cargo_wasm() {
  local sub="$1"; shift
  if wasm_uses_build_std; then
    local lld
    lld="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
    [ -x "$lld" ] || die "rust-lld not found at $lld: reinstall the Rust toolchain with rustup"
    env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld" CARGO_TARGET_DIR="$WASM_TARGET_DIR" \
      cargo "$sub" --target wasm32-unknown-unknown -Z build-std=std,panic_abort "$@"
  else
    env CARGO_TARGET_DIR="$WASM_TARGET_DIR" cargo "$sub" --target wasm32-unknown-unknown "$@"
  fi
}

# A TCP port nobody listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cargo-fuzz, pinned, installed into the cache beside the build outputs.
CARGO_FUZZ_VERSION=0.13.2
ensure_cargo_fuzz() {
  local root="$HOME/.cache/printstall/tools"
  export PATH="$root/bin:$PATH"
  if [ "$(tool_version cargo fuzz)" != "$CARGO_FUZZ_VERSION" ]; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes the first time)"
    cargo install -q --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$root"
  fi
}
