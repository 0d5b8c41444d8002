#!/usr/bin/env bash
# Builds the Debian packages: dist/gsmgate_<version>_amd64.deb, _arm64.deb
# and _armhf.deb (Raspberry Pi OS 64- and 32-bit), from release builds
# (CGO_ENABLED=0, -trimpath, stripped, gin's nomsgpack tag) with nfpm at a
# pinned version. The version comes from git: the latest v* tag
# (v1.2.0 -> 1.2.0, 5 commits later 1.2.0+5.g<sha>), else
# 0.0.0+git<commit date>.<sha>; ".dirty" (or "+dirty") when the tree has changes.
#
# usage: scripts/package.sh [ARCH ...]   (default: amd64 arm64 armhf)
# DIST=dir puts the packages (and the builds, in dir/build) there instead of dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64 armhf)

if desc=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
  version=${desc#v}
  version=${version/-/+}      # 1.2.0-5-gabc -> 1.2.0+5-gabc
  version=${version//-g/.g}   # -> 1.2.0+5.gabc
else
  version="0.0.0+git$(git log -1 --format=%cd --date=format:%Y%m%d).$(git rev-parse --short=12 HEAD)"
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  case "$version" in *+*) version="$version.dirty" ;; *) version="$version+dirty" ;; esac
fi

dist=${DIST:-dist}
mkdir -p "$dist"
for arch in "${archs[@]}"; do
  case "$arch" in
    amd64) goarch=amd64 goarm= ;;
    arm64) goarch=arm64 goarm= ;;
    # Raspberry Pi OS 32-bit is ARMv6 with VFP (Pi Zero and 1 included).
    armhf) goarch=arm goarm=6 ;;
    *) echo "package.sh: unknown architecture $arch (amd64, arm64, armhf)" >&2; exit 2 ;;
  esac
  build="$dist/build/$arch"
  mkdir -p "$build"
  echo "== $arch: go build (gsmgate $version)"
  CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
    go build -trimpath -tags nomsgpack -ldflags "-s -w -X main.version=$version" -o "$build/gsmgate" ./cmd/gsmgate
  # Debian wants a changelog; this one names the build.
  {
    echo "gsmgate ($version-1) unstable; urgency=medium"
    echo
    echo "  * Built from commit $(git rev-parse HEAD)."
    echo
    echo " -- gsmgate maintainers <maintainers@gsmgate.invalid>  $(git log -1 --format=%cD)"
  } | gzip -9n > "$build/changelog.Debian.gz"
  echo "== $arch: nfpm"
  VERSION=$version DEB_ARCH=$arch BUILD=$build \
    go run "$NFPM" package --config scripts/nfpm.yaml --packager deb --target "$dist/gsmgate_${version}_${arch}.deb"
done
ls -l "$dist"/*.deb
