#!/usr/bin/env bash
# Installs the system packages a node needs (containerd, runc, CNI plugins,
# nftables, …) when one is missing, with apt-get as root. Cheap when they are
# all there, so `npm start` and `npm test` can always call it.
set -euo pipefail
packages=(containerd runc containernetworking-plugins nftables iptables iproute2 busybox-static conntrack
  docker-registry skopeo debootstrap xz-utils bzip2 socat util-linux ca-certificates openssl)
# A command (or file) per package tells whether it is installed.
probes=(containerd runc /usr/lib/cni/bridge nft iptables ip /usr/bin/busybox conntrack
  docker-registry skopeo debootstrap xz bzip2 socat nsenter /etc/ssl/certs/ca-certificates.crt openssl)
missing=()
for i in "${!packages[@]}"; do
  probe=${probes[$i]}
  if [[ $probe == /* ]]; then [ -e "$probe" ] || missing+=("${packages[$i]}")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("${packages[$i]}"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "pilote: missing system packages: ${missing[*]}" >&2
  echo "pilote: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  echo "pilote: (or run the API server alone with: npm start -- --disable-agent)" >&2
  exit 1
fi
echo "pilote: installing system packages: ${missing[*]}…" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
