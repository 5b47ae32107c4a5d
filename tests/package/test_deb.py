"""The Debian package: built with dpkg-buildpackage in a scratch copy of the tree, it holds what
`make install` installs, declares its runtime dependencies, is lintian clean, and (as root)
installs with dpkg, answers `fence_ec2 -o metadata`, `crm_resource --show-metadata
ocf:ec2ha:eip` and `stonith_admin --metadata -a fence_ec2`, and removes cleanly.

The install test runs in a private mount namespace with overlays on /usr, /etc and /var
(deb-install-check.sh --sandbox) so the machine's files and dpkg database are left as they
were; EC2HA_PACKAGE_TEST_HOST=1 installs on the machine itself instead (a fresh CI machine),
which is refused when ec2ha is already installed or a file it would replace belongs to no
package.
"""
import os

import pytest

import pkghelp as pk

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deb-install-check.sh")

# Added by debhelper to what `make install` installs.
DEBIAN_EXTRA = {
    "/usr/share/doc/ec2ha/copyright": 0o644,
    "/usr/share/doc/ec2ha/changelog.gz": 0o644,
    "/usr/share/lintian/overrides/ec2ha": 0o644,
}


def test_build_leaves_the_checkout_alone(deb):
    """dpkg-buildpackage ran in a copy: the checkout (tracked, untracked and ignored files) is
    the same before and after the build."""
    if deb.status_before is None:
        pytest.skip("not a git checkout")
    assert deb.status_after == deb.status_before


def test_deb_holds_exactly_what_make_install_installs(deb):
    got = pk.deb_files(deb.deb)
    # dh_compress gzips the man pages (and nothing else: see debian/rules).
    want = {p + ".gz" if "/share/man/" in p else p: m
            for p, m in pk.expected_install("/usr").items()}
    want.update(DEBIAN_EXTRA)
    extra = sorted(set(got) - set(want))
    absent = sorted(set(want) - set(got))
    assert not extra and not absent, f"in the .deb only: {extra}\nmissing from the .deb: {absent}"
    wrong = {p: m for p, m in got.items() if m != want[p]}
    assert not wrong, f"wrong modes or link targets: {wrong} (want {[want[p] for p in wrong]})"


def test_deb_declares_runtime_dependencies(deb):
    depends = pk.run(["dpkg-deb", "-f", deb.deb, "Depends"], check=True).stdout
    for lib in ("libcurl4", "libssl3", "libxml2", "libcib", "libcrmcommon", "ca-certificates"):
        assert lib in depends, f"Depends lacks {lib}: {depends}"
    assert pk.run(["dpkg-deb", "-f", deb.deb, "Version"]).stdout.strip() == deb.version


def test_lintian_clean(deb):
    if pk.missing_tools("lintian"):
        pytest.skip("lintian not installed")
    proc = pk.run(["lintian", "--info", "--display-info", "--display-experimental", "--pedantic",
                   "--color", "never", deb.deb], timeout=600)
    tags = [line for line in proc.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "P:",
                                                                       "X:")]
    assert proc.returncode == 0 and not tags, \
        "lintian (each tag needs a fix or an override with a reason in " \
        "debian/ec2ha.lintian-overrides):\n" + proc.stdout + proc.stderr


def conflicts_on_host(deb_path):
    """Why installing on this machine is refused, or None."""
    status = pk.run(["dpkg-query", "-W", "-f=${Status}", "ec2ha"]).stdout
    if "installed" in status and "not-installed" not in status:
        return f"ec2ha is installed on this machine ({status}); not replacing it"
    for path in pk.deb_files(deb_path):
        if os.path.lexists(path) and pk.run(["dpkg", "-S", path]).returncode != 0:
            return f"{path} exists and belongs to no package (a make install?); not replacing it"
    return None


def sandbox_unavailable(probe):
    """Why deb-install-check.sh --sandbox cannot work here (no unshare, no mount namespaces or
    no overlayfs, e.g. in an unprivileged container), or None."""
    if pk.missing_tools("unshare"):
        return "unshare(1) missing"
    probe.mkdir()
    proc = pk.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                   'mount -t tmpfs probe "$1" && mkdir "$1/u" "$1/w" && '
                   'mount -t overlay probe -o "lowerdir=/usr,upperdir=$1/u,workdir=$1/w" /usr',
                   "probe", str(probe)], timeout=60)
    return None if proc.returncode == 0 else (proc.stderr.strip() or f"exit {proc.returncode}")


def test_install_with_dpkg_then_remove(deb, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    missing = pk.missing_tools("dpkg", "crm_resource", "stonith_admin", "xmllint")
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (Debian packages pacemaker-cli-utils, "
                    "libxml2-utils)")
    if os.environ.get("EC2HA_PACKAGE_TEST_HOST") == "1":
        why = conflicts_on_host(deb.deb)
        if why:
            pytest.skip(why)
        cmd = [SCRIPT, deb.deb]
    else:
        why = sandbox_unavailable(tmp_path / "probe")
        if why:
            pytest.skip(f"no private overlay for the install ({why}); "
                        "EC2HA_PACKAGE_TEST_HOST=1 installs on the host instead")
        scratch = tmp_path / "sandbox"
        scratch.mkdir()
        cmd = [SCRIPT, "--sandbox", str(scratch), deb.deb]
    proc = pk.run(cmd, timeout=900)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0 and report.rstrip().endswith("PASS"), report
