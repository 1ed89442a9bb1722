#!/usr/bin/env bash
# Helpers the provisioning scripts source from the synced folder. They make a second `vagrant provision` a no-op.

# write_if_changed PATH [MODE]: stdin -> PATH only when the content differs; returns 0 when it wrote.
write_if_changed() {
  local tmp
  tmp="$(mktemp)"
  cat > "${tmp}"
  if [ -f "$1" ] && cmp -s "${tmp}" "$1"; then
    rm -f "${tmp}"
    return 1
  fi
  install -D -m "${2:-0644}" "${tmp}" "$1"
  rm -f "${tmp}"
}

# ensure_packages PKG...: apt-get install only what is missing (no apt-get update when nothing is).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}
