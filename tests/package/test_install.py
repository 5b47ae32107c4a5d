"""`make install DESTDIR=...` and `make uninstall DESTDIR=...` put and remove exactly the
expected files (DESIGN.md section 1), with the right modes, for the default and another PREFIX.
"""
import os

import pytest

import pkghelp as pk


def make(target, destdir, prefix=None):
    args = ["make", "-C", pk.REPO, "--no-print-directory", target, f"DESTDIR={destdir}",
            f"BUILD={pk.BUILD}", "NO_DEPS=1"]
    if prefix is not None:
        args.append(f"PREFIX={prefix}")
    return pk.run(args, timeout=1200, check=True)


def describe(listing):
    return "\n".join(f"  {oct(m) if isinstance(m, int) else m} {path}"
                     for path, m in sorted(listing.items()))


@pytest.mark.parametrize("prefix", [None, "/opt/ec2ha"])
def test_install_then_uninstall(tmp_path, prefix):
    if pk.missing_tools("make", "install"):
        pytest.skip("make or install(1) missing")
    dest = tmp_path / "root"
    make("install", dest, prefix)
    got = pk.tree_listing(dest)
    want = pk.expected_install(prefix or "/usr")

    extra = {p: m for p, m in got.items() if p not in want}
    absent = sorted(p for p in want if p not in got)
    wrong_mode = {p: m for p, m in got.items() if p in want and m != want[p]}
    assert not extra, "make install put files nobody expects:\n" + describe(extra)
    assert not absent, "make install did not install:\n  " + "\n  ".join(absent)
    assert not wrong_mode, "wrong modes or link targets (want 0755 programs, 0644 the rest):\n" + \
        describe(wrong_mode)

    make("uninstall", dest, prefix)
    left = pk.tree_listing(dest)
    assert not left, "make uninstall left files behind:\n" + describe(left)


def test_installed_man_pages_are_the_generated_ones(tmp_path):
    """The installed pages are exactly what each program prints with its manpage action."""
    dest = tmp_path / "root"
    make("install", dest)
    env = {"OCF_ROOT": pk.OCF_ROOT}
    checked = 0
    for prog, (src, _path, man, sect) in pk.PROGRAMS.items():
        if not pk.has_sources(src):
            continue
        cmd = [pk.program_path(prog)] + (["-o", "manpage"] if prog == "fence_ec2" else ["manpage"])
        generated = pk.run(cmd, env=env, check=True).stdout
        with open(dest / f"usr/share/man/man{sect}/{man}") as f:
            assert f.read() == generated, f"installed {man} differs from `{' '.join(cmd)}`"
        checked += 1
    if checked == 0:
        pytest.skip("no programs in this tree yet")
