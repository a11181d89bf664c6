#!/bin/sh
# Makes busybox.tar.xz, the rootfs the tutorial's busybox Dockerfile ADDs:
# Debian's static /usr/bin/busybox (package busybox-static) as /bin/busybox,
# one symlink per applet in /bin (as docker-library/busybox lays it out),
# a minimal /etc/passwd and /etc/group, /root, /tmp and /home.
# Reproducible: fixed owners, mtimes and order, so an unchanged busybox gives
# the same archive and `pilote build` reuses its cached layer.
# Usage: make-rootfs.sh [OUTPUT]   (default: busybox.tar.xz next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/busybox.tar.xz}
busybox=${BUSYBOX:-/usr/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox is missing: apt-get install busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox is dynamically linked; install busybox-static (a static busybox is needed FROM scratch)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/home" "$root/var/www" "$root/usr/sbin"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
nogroup:x:65534:
GROUP
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00:00Z' \
  -C "$root" -cf - . | xz -T1 -6 > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-rootfs.sh: wrote $out ($(du -h "$out" | cut -f1), $("$busybox" --list | wc -l) applets)"
