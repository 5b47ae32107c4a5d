#!/bin/sh
# deb-install-check.sh [--sandbox SCRATCH] DEB
#
# Install the ec2ha .deb with dpkg (apt-get -f install when dependencies are missing), check
# what an operator relies on, remove it with dpkg -r and check that its files are gone.
# As root.  Prints "ok: ..." per check; the first failure prints "FAIL: ..." and exits 1.
#
# --sandbox SCRATCH: do all of it in a private mount namespace whose /usr, /etc and /var are
# overlays (upper layers on a tmpfs mounted at the empty directory SCRATCH), so the machine's
# own files and dpkg database never change: a package already installed, a `make install`
# or another test's programs at the same paths stay as they are.
set -eu

if [ "${1:-}" = --sandbox ]; then
    scratch=$2; shift 2
    exec unshare --mount --propagation private -- "$0" --in-sandbox "$scratch" "$@"
fi
if [ "${1:-}" = --in-sandbox ]; then
    scratch=$2; shift 2
    mount -t tmpfs -o mode=0700 ec2ha-pkgtest "$scratch"
    for d in usr etc var; do
        mkdir "$scratch/$d.upper" "$scratch/$d.work"
        mount -t overlay ec2ha-pkgtest \
            -o "lowerdir=/$d,upperdir=$scratch/$d.upper,workdir=$scratch/$d.work" "/$d"
    done
    echo "ok: sandbox: /usr, /etc and /var are private overlays"
fi

deb=$1
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

pkg=$(dpkg-deb -f "$deb" Package)
[ "$pkg" = ec2ha ] || fail "$deb is package '$pkg', not ec2ha"
# Regular files and symlinks of the package, one absolute path a line.
dpkg-deb --fsys-tarfile "$deb" | tar -tf - | grep -v '/$' | sed 's#^\.##' > "$out/files"
[ -s "$out/files" ] || fail "could not list the files of $deb"

# ---- install ------------------------------------------------------------------------------
if dpkg -i "$deb" > "$out/dpkg-i.log" 2>&1; then
    ok "dpkg -i $(basename "$deb")"
else
    echo "dpkg -i failed, trying apt-get -f install:"; sed 's/^/    /' "$out/dpkg-i.log"
    apt-get -f install -y -q > "$out/apt.log" 2>&1 || { sed 's/^/    /' "$out/apt.log"; fail "apt-get -f install"; }
    ok "dpkg -i + apt-get -f install"
fi
status=$(dpkg-query -W -f='${Status}' ec2ha 2>/dev/null || true)
[ "$status" = "install ok installed" ] || fail "dpkg says ec2ha is '$status'"
ok "dpkg-query: $status, version $(dpkg-query -W -f='${Version}' ec2ha)"

while read -r f; do
    [ -e "$f" ] || fail "$f is in the package but not on disk"
done < "$out/files"
ok "all $(wc -l < "$out/files") files of the package are in place"
for f in /usr/sbin/fence_ec2 /usr/sbin/ec2ha /usr/lib/ocf/resource.d/ec2ha/eip; do
    [ -x "$f" ] || fail "$f missing or not executable"
done
for f in /usr/share/man/man8/fence_ec2.8.gz /usr/share/man/man7/ocf_ec2ha_eip.7.gz \
         /usr/share/man/man8/ec2ha.8.gz /usr/share/doc/ec2ha/iam-policy.json; do
    [ -f "$f" ] || fail "$f missing"
done
ls /usr/share/doc/ec2ha/crm-examples/*.crm > /dev/null 2>&1 || fail "no crm-examples in /usr/share/doc/ec2ha"
ok "programs, man pages, IAM policy and crm-examples installed"

# ---- what an operator runs --------------------------------------------------------------------
command -v fence_ec2 > /dev/null || fail "fence_ec2 not on PATH"
fence_ec2 -o metadata > "$out/fence.xml" 2> "$out/err" || { cat "$out/err"; fail "fence_ec2 -o metadata"; }
grep -q '<resource-agent name="fence_ec2"' "$out/fence.xml" || fail "fence_ec2 -o metadata: no resource-agent fence_ec2"
xmllint --noout "$out/fence.xml" || fail "fence_ec2 -o metadata is not well-formed XML"
if [ -f /usr/share/cluster/relaxng/metadata.rng ]; then
    xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng "$out/fence.xml" 2> "$out/err" \
        || { cat "$out/err"; fail "fence_ec2 metadata does not validate against fence-agents' metadata.rng"; }
    ok "fence_ec2 -o metadata (valid against /usr/share/cluster/relaxng/metadata.rng)"
else
    ok "fence_ec2 -o metadata"
fi

crm_resource --show-metadata ocf:ec2ha:eip > "$out/eip.xml" 2> "$out/err" \
    || { cat "$out/err"; fail "crm_resource --show-metadata ocf:ec2ha:eip"; }
grep -q '<resource-agent name="eip"' "$out/eip.xml" || fail "crm_resource: no resource-agent eip"
grep -q 'name="allocation_id"' "$out/eip.xml" || fail "crm_resource: no allocation_id parameter"
if [ -f /usr/share/resource-agents/ra-api-1.dtd ]; then
    xmllint --noout --dtdvalid /usr/share/resource-agents/ra-api-1.dtd "$out/eip.xml" 2> "$out/err" \
        || { cat "$out/err"; fail "ocf:ec2ha:eip meta-data does not validate against ra-api-1.dtd"; }
    ok "crm_resource --show-metadata ocf:ec2ha:eip (valid against ra-api-1.dtd)"
else
    ok "crm_resource --show-metadata ocf:ec2ha:eip"
fi
crm_resource --list-agents ocf:ec2ha 2> /dev/null | grep -qx eip || fail "crm_resource --list-agents ocf:ec2ha has no eip"
ok "crm_resource --list-agents ocf:ec2ha lists eip"

stonith_admin --metadata -a fence_ec2 > "$out/st.xml" 2> "$out/err" \
    || { cat "$out/err"; fail "stonith_admin --metadata -a fence_ec2"; }
grep -q 'name="fence_ec2"' "$out/st.xml" || fail "stonith_admin --metadata: no fence_ec2"
grep -q 'name="skip_race_check"' "$out/st.xml" || fail "stonith_admin --metadata: no skip_race_check parameter"
ok "stonith_admin --metadata -a fence_ec2"

ec2ha --version > "$out/v" 2>&1 || { cat "$out/v"; fail "ec2ha --version"; }
ok "ec2ha --version: $(head -1 "$out/v")"
if command -v man > /dev/null; then
    for page in fence_ec2 ocf_ec2ha_eip ec2ha; do
        man -w "$page" > /dev/null 2>&1 || fail "man -w $page finds no page"
    done
    ok "man finds fence_ec2(8), ocf_ec2ha_eip(7), ec2ha(8)"
fi

# ---- remove ---------------------------------------------------------------------------------
dpkg -r ec2ha > "$out/dpkg-r.log" 2>&1 || { cat "$out/dpkg-r.log"; fail "dpkg -r ec2ha"; }
status=$(dpkg-query -W -f='${Status}' ec2ha 2>/dev/null || true)
case "$status" in
    ""|"unknown ok not-installed"|"deinstall ok not-installed"|"deinstall ok config-files") ;;
    *) fail "after dpkg -r, dpkg says ec2ha is '$status'" ;;
esac
ok "dpkg -r ec2ha"
while read -r f; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after dpkg -r"
done < "$out/files"
[ ! -e /usr/lib/ocf/resource.d/ec2ha ] || fail "/usr/lib/ocf/resource.d/ec2ha is still there"
[ ! -e /usr/share/doc/ec2ha ] || fail "/usr/share/doc/ec2ha is still there"
ok "every file of the package is gone"
dpkg --purge ec2ha > /dev/null 2>&1 || true
echo "PASS"
