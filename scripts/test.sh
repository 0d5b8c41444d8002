#!/usr/bin/env bash
# The project's one test command (README and .ci/run both run exactly this).
# It installs what the tests need on a fresh Debian machine, then runs the
# static checks and the whole test suite with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gammu >/dev/null 2>&1 || need_apt+=(gammu)
/usr/bin/python3 -c 'import gammu' >/dev/null 2>&1 || need_apt+=(python3-gammu)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The package test (scripts/package_test.go) builds the .debs, lints them and
# installs one: lintian, systemd-analyze (systemd), file, adduser (the
# package's dependency) and deb-systemd-helper (init-system-helpers).
command -v lintian >/dev/null 2>&1 || need_apt+=(lintian)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v file >/dev/null 2>&1 || need_apt+=(file)
command -v adduser >/dev/null 2>&1 || need_apt+=(adduser)
command -v deb-systemd-helper >/dev/null 2>&1 || need_apt+=(init-system-helpers)
# Headless Chromium for the web UI's browser tests (webui/ui).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "test.sh: missing ${need_apt[*]}; run: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

# SMSGate's official JS client, for webui's drop-in test (node_modules stays out of git).
if [ ! -d webui/testdata/smsgate/node_modules/android-sms-gateway ]; then
  (cd webui/testdata/smsgate && npm ci --no-audit --no-fund --silent)
fi
export GSMGATE_REQUIRE_NODE=1

export PATH="$(go env GOPATH)/bin:$PATH"
command -v staticcheck >/dev/null 2>&1 || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
echo "== go vet"
go vet ./...
echo "== staticcheck"
staticcheck ./...
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: not root: the .deb install test (scripts/package_test.go) will be skipped; CI runs this as root" >&2
fi
echo "== go test -race"
go test -race -count=1 -timeout 14m "$@" ./...
