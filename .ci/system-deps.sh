#!/bin/sh
# System packages some tests need: headless Chromium for the diff page's screenshot test.
# Installed only where we can (root with apt-get, as in CI); elsewhere those tests skip.
# GROUNDTRUTH_NO_APT=1 skips it (the browser tests then skip).
if [ -n "${GROUNDTRUTH_NO_APT:-}" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "could not install chromium: browser tests will be skipped"
fi
exit 0
