"""Helpers for tests/package: the tree copy, the .deb build, metadata and man page parsing."""
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("EC2HA_BUILD", os.path.join(REPO, "build"))
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
OCF_ROOT = "/usr/lib/ocf"

# What `make install` puts where, relative to PREFIX (DESIGN.md section 1).
PROGRAMS = {
    # program: (source dir that makes it exist, installed path, man page, man section)
    "fence_ec2": ("fence", "sbin/fence_ec2", "fence_ec2.8", "8"),
    "eip": ("agents/eip", "lib/ocf/resource.d/ec2ha/eip", "ocf_ec2ha_eip.7", "7"),
    "ec2ha": ("agents/cli", "sbin/ec2ha", "ec2ha.8", "8"),
}
DOCDIR = "share/doc/ec2ha"


def run(cmd, timeout=600, check=False, env=None, **kw):
    """subprocess.run with text output captured; env is added to a minimal clean one."""
    child_env = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root")}
    if env:
        child_env.update(env)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env,
                          **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
                             f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc


def missing_tools(*names):
    return [n for n in names if shutil.which(n, path=PATH) is None]


def has_sources(src_dir):
    d = os.path.join(REPO, src_dir)
    return os.path.isdir(d) and any(f.endswith(".c") for f in os.listdir(d))


def program_path(name):
    return os.path.join(BUILD, name)


# ---- the tree copy and the .deb ------------------------------------------------------------

def tree_files(src):
    """Files of the source tree: git's view (tracked plus untracked-not-ignored, as they are
    in the working tree now) when src is a git checkout, else everything but build output."""
    if os.path.exists(os.path.join(src, ".git")) and shutil.which("git"):
        proc = run(["git", "-C", src, "ls-files", "-z", "--cached", "--others",
                    "--exclude-standard"], check=True)
        names = sorted({n for n in proc.stdout.split("\0") if n})
        return [n for n in names if os.path.lexists(os.path.join(src, n))]
    out = []
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        dirs[:] = [d for d in dirs
                   if d != "__pycache__" and not (rel == "." and (d.startswith("build") or
                                                                  d == ".git"))
                   and not (rel == "debian" and (d == "ec2ha" or d.startswith(".")))]
        out.extend(os.path.normpath(os.path.join(rel, f)) for f in files)
    return sorted(out)


def copy_tree(src, dst):
    """Copy the source tree into dst (which must not exist) without touching src."""
    os.makedirs(dst)
    for name in tree_files(src):
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)


@dataclass
class DebBuild:
    deb: str           # ec2ha_<version>_<arch>.deb
    changes: str       # the .changes file (for lintian)
    srcdir: str        # the scratch tree it was built from
    log: str           # dpkg-buildpackage output
    version: str
    status_before: str  # `git status --porcelain --ignored` of the checkout before the build
    status_after: str   # ... and after it (None when not a git checkout)


def git_status():
    if not os.path.exists(os.path.join(REPO, ".git")) or not shutil.which("git"):
        return None
    return run(["git", "-C", REPO, "status", "--porcelain", "--ignored"], check=True).stdout


def changelog_version(tree):
    proc = run(["dpkg-parsechangelog", "-S", "Version"], cwd=tree, check=True)
    return proc.stdout.strip()


def build_deb(workdir):
    """dpkg-buildpackage -us -uc -b in a copy of the tree under workdir; unit tests are left to
    `make unit` (nocheck) so the package test stays short."""
    workdir = str(workdir)
    status_before = git_status()
    version = changelog_version(REPO)
    src = os.path.join(workdir, f"ec2ha-{version}")
    copy_tree(REPO, src)
    jobs = min(2, os.cpu_count() or 1)
    proc = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, timeout=1800,
               env={"DEB_BUILD_OPTIONS": f"nocheck parallel={jobs}",
                    "DEB_BUILD_PROFILES": "nocheck"})
    log = os.path.join(workdir, "build.log")
    with open(log, "w") as f:
        f.write(proc.stdout)
        f.write(proc.stderr)
    if proc.returncode != 0:
        raise AssertionError(f"dpkg-buildpackage failed ({proc.returncode}); last lines of "
                             f"{log}:\n" + "\n".join((proc.stdout + proc.stderr).splitlines()[-40:]))
    arch = run(["dpkg-architecture", "-qDEB_HOST_ARCH"], check=True).stdout.strip()
    deb = os.path.join(workdir, f"ec2ha_{version}_{arch}.deb")
    changes = os.path.join(workdir, f"ec2ha_{version}_{arch}.changes")
    assert os.path.exists(deb), f"no {deb} after the build; see {log}"
    return DebBuild(deb=deb, changes=changes, srcdir=src, log=log, version=version,
                    status_before=status_before, status_after=git_status())


def deb_files(deb):
    """{path: mode or "-> target"} of the files and symlinks in a .deb (paths start with /),
    in the form tree_listing() gives."""
    listing = run(["dpkg-deb", "-c", deb], check=True).stdout
    out = {}
    for line in listing.splitlines():
        # -rwxr-xr-x root/root    215544 2026-11-25 12:00 ./usr/sbin/fence_ec2
        # lrwxrwxrwx root/root         0 2026-11-25 12:00 ./usr/share/doc/x -> docs/x
        fields = line.split(None, 5)
        perms, path = fields[0], fields[5]
        if perms.startswith("d"):
            continue
        if perms.startswith("l"):
            path, target = path.split(" -> ", 1)
            out[path[1:]] = "-> " + target
        else:
            out[path[1:]] = perm_bits(perms)
    return out


def perm_bits(perms):
    """'-rwxr-xr-x' -> 0o755."""
    bits = 0
    for i, c in enumerate(perms[1:10]):
        if c != "-":
            bits |= 1 << (8 - i)
    return bits


# ---- expected `make install` result -------------------------------------------------------

def expected_install(prefix="/usr"):
    """{absolute path: octal mode, or "-> target" for a symlink} that
    `make install PREFIX=prefix` must create."""
    p = prefix.rstrip("/")
    exp = {}
    for prog, (src, path, man, sect) in PROGRAMS.items():
        if has_sources(src):
            exp[f"{p}/{path}"] = 0o755
            exp[f"{p}/share/man/man{sect}/{man}"] = 0o644
    doc = f"{p}/{DOCDIR}"
    exp[f"{doc}/README.md"] = 0o644
    # The policy is documented at this path; the file itself sits next to docs/iam.md.
    exp[f"{doc}/iam-policy.json"] = "-> docs/iam-policy.json"
    for sub in ("crm-examples", "docs"):
        d = os.path.join(REPO, sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if os.path.isfile(os.path.join(d, f)) and not f.startswith("."):
                    exp[f"{doc}/{sub}/{f}"] = 0o644
    return exp


def tree_listing(root):
    """{'/path': mode, or "-> target" for a symlink} of the non-directory entries under root,
    paths relative to root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            full = os.path.join(d, f)
            key = "/" + os.path.relpath(full, root)
            if os.path.islink(full):
                out[key] = "-> " + os.readlink(full)
            else:
                out[key] = os.lstat(full).st_mode & 0o7777
    return out


# ---- metadata, help and man page ----------------------------------------------------------

@dataclass
class Param:
    name: str
    getopt: str          # fence metadata only: the getopt "mixed" string
    deprecated: bool


def parse_fence_metadata(xml):
    root = ET.fromstring(xml)
    assert root.tag == "resource-agent", root.tag
    params = []
    for p in root.iter("parameter"):
        g = p.find("getopt")
        params.append(Param(p.get("name"), g.get("mixed") if g is not None else "",
                            p.get("deprecated") == "1"))
    actions = [a.get("name") for a in root.iter("action")]
    return root.get("name"), params, actions


def parse_ocf_metadata(xml):
    # The DOCTYPE line names ra-api-1.dtd; ElementTree ignores it.
    root = ET.fromstring(xml)
    assert root.tag == "resource-agent", root.tag
    params = [Param(p.get("name"), "", p.get("deprecated") == "1") for p in root.iter("parameter")]
    actions = [a.get("name") for a in root.iter("action")]
    return root.get("name"), params, actions


LONG_OPT = re.compile(r"(?<![\w-])--([A-Za-z0-9][A-Za-z0-9_-]*)")


def long_options(text):
    return set(LONG_OPT.findall(text))


def getopt_long(mixed):
    """'-n, --plug=[id]' -> 'plug'; '' when the parameter has no long option."""
    m = LONG_OPT.search(mixed)
    return m.group(1) if m else ""


def roff_to_text(src):
    """Plain text of a man page source, good enough to search for option names: no hyphenation
    or line filling (unlike rendering it), roff escapes resolved."""
    out = []
    for line in src.splitlines():
        if line.startswith(".\\\"") or line.startswith("'\\\""):
            continue
        line = re.sub(r"\\f[BIRP]|\\f\(..|\\f\[[^]]*\]", "", line)
        line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\(aq", "'")
        line = line.replace("\\&", "").replace("\\(em", "--").replace("\\(en", "-")
        line = re.sub(r"^\.(B|I|BR|IR|RB|BI|IB)\s+", "", line)
        out.append(line)
    return "\n".join(out)


def man_sections(src):
    """{SECTION NAME: body source} of a man page source.  Each body is roff; pass it through
    roff_to_text() or man_terms()."""
    sections = {}
    name = None
    for line in src.splitlines():
        m = re.match(r"^\.SH\s+\"?([^\"]+)\"?\s*$", line)
        if m:
            name = m.group(1).strip()
            sections[name] = []
        elif name is not None:
            sections[name].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def man_terms(section_src):
    """The terms of the .TP paragraphs of a section (the line after each .TP), as text."""
    lines = section_src.splitlines()
    return [roff_to_text(lines[i + 1]).strip() for i, line in enumerate(lines[:-1])
            if line.strip() == ".TP"]


def word_in(word, text):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None
