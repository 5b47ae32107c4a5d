"""Every option of each program's table appears in its --help, its metadata and its man page.

The three are printed from one option table (lib/opts_print.c), so these tests catch a printer
or a table row that drops or invents an option.  The metadata is the reference for the agents
(fence-agents XML for fence_ec2, OCF XML for eip); ec2ha, a command line tool, has no metadata,
so there --help and the man page are compared with each other.  Every check runs both ways.
"""
import os

import pytest

import pkghelp as pk

OCF_ENV = {"OCF_ROOT": pk.OCF_ROOT}


def program(name):
    src = pk.PROGRAMS[name][0]
    if not pk.has_sources(src):
        pytest.skip(f"{src}/ has no sources yet")
    path = pk.program_path(name)
    assert os.access(path, os.X_OK), f"{path} is not built: run make first"
    return path


def output(cmd, env=None, ok=(0,)):
    proc = pk.run(cmd, env=env, timeout=60)
    assert proc.returncode in ok, (f"{' '.join(cmd)} exited {proc.returncode}\n"
                                   f"{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def missing(wanted, have):
    return sorted(w for w in wanted if w not in have)


# ---- fence_ec2 --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fence():
    path = program("fence_ec2")
    name, params, actions = pk.parse_fence_metadata(output([path, "-o", "metadata"]))
    assert name == "fence_ec2"
    man_src = output([path, "-o", "manpage"])
    return {
        "params": params,
        "actions": actions,
        "help": output([path, "--help"]),
        "man_src": man_src,
        "man": pk.roff_to_text(man_src),
        "sections": pk.man_sections(man_src),
    }


def test_fence_every_parameter_has_a_long_option(fence):
    without = [p.name for p in fence["params"] if not pk.getopt_long(p.getopt)]
    assert without == [], f"metadata parameters without a --long option: {without}"


def test_fence_metadata_options_in_help(fence):
    have = pk.long_options(fence["help"])
    want = {pk.getopt_long(p.getopt) for p in fence["params"]}
    assert missing(want, have) == [], "in the metadata but not in fence_ec2 --help"


def test_fence_help_options_in_metadata(fence):
    want = {pk.getopt_long(p.getopt) for p in fence["params"]}
    assert missing(pk.long_options(fence["help"]), want) == [], \
        "in fence_ec2 --help but not in the metadata"


def test_fence_metadata_in_man_options_and_stdin_parameters(fence):
    sections = fence["sections"]
    assert "OPTIONS" in sections and "STDIN PARAMETERS" in sections, sorted(sections)
    options = pk.long_options(pk.roff_to_text(sections["OPTIONS"]))
    stdin_params = pk.man_terms(sections["STDIN PARAMETERS"])
    want_long = {pk.getopt_long(p.getopt) for p in fence["params"]}
    want_names = [p.name for p in fence["params"]]
    assert missing(want_long, options) == [], "in the metadata but not in the man page's OPTIONS"
    # help and version are command-line only (the table marks them NO_STDIN): fence-agents
    # list them in the metadata, but a key=value line cannot ask for them.
    assert missing(want_names, stdin_params + ["help", "version"]) == [], \
        "in the metadata but not in the man page's STDIN PARAMETERS"
    assert missing(options, want_long) == [], "in the man page's OPTIONS but not in the metadata"
    assert missing(stdin_params, want_names) == [], \
        "in the man page's STDIN PARAMETERS but not in the metadata"


def test_fence_actions_in_help_and_man(fence):
    assert fence["actions"], "metadata lists no actions"
    help_actions = fence["help"].split("Actions:", 1)
    assert len(help_actions) == 2, "fence_ec2 --help has no Actions: section"
    man_actions = pk.man_terms(fence["sections"].get("ACTIONS", ""))
    for action in fence["actions"]:
        assert pk.word_in(action, help_actions[1]), f"action {action} not in --help"
        assert action in man_actions, f"action {action} not in the man page's ACTIONS"


# ---- eip ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def eip():
    path = program("eip")
    name, params, actions = pk.parse_ocf_metadata(output([path, "meta-data"], env=OCF_ENV))
    assert name == "eip"
    man_src = output([path, "manpage"], env=OCF_ENV)
    return {
        "params": params,
        "actions": actions,
        "help": output([path, "usage"], env=OCF_ENV),
        "man_src": man_src,
        "sections": pk.man_sections(man_src),
    }


def test_eip_metadata_parameters_in_man(eip):
    terms = pk.man_terms(eip["sections"].get("PARAMETERS", ""))
    names = [p.name for p in eip["params"]]
    assert names, "eip meta-data lists no parameters"
    assert missing(names, terms) == [], "in eip meta-data but not in the man page's PARAMETERS"
    assert missing(terms, names) == [], "in the man page's PARAMETERS but not in eip meta-data"


def test_eip_metadata_parameters_in_help(eip):
    """`eip usage` (also `eip help`) is the agent's help; it must list every parameter."""
    names = [p.name for p in eip["params"]]
    absent = [n for n in names if not pk.word_in(n, eip["help"])]
    assert absent == [], (f"eip parameters missing from `eip usage`: {absent}\n"
                          f"--- eip usage printed:\n{eip['help']}")


def test_eip_actions_in_man_and_help(eip):
    man_actions = pk.man_terms(eip["sections"].get("ACTIONS", ""))
    for action in eip["actions"]:
        assert action in man_actions, f"action {action} not in the man page's ACTIONS"
        assert pk.word_in(action, eip["help"]), f"action {action} not in `eip usage`"


# ---- ec2ha -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli():
    path = program("ec2ha")
    man_src = output([path, "manpage"])
    return {
        "help": output([path, "--help"]),
        "sections": pk.man_sections(man_src),
    }


def test_cli_help_options_match_man(cli):
    help_text = cli["help"]
    assert "Options:" in help_text and "Commands:" in help_text, help_text
    help_options = pk.long_options(help_text.split("Options:", 1)[1].split("Commands:", 1)[0])
    man_options = pk.long_options(pk.roff_to_text(cli["sections"].get("OPTIONS", "")))
    assert help_options, "ec2ha --help lists no options"
    assert missing(help_options, man_options) == [], "in ec2ha --help but not in the man page"
    assert missing(man_options, help_options) == [], "in the man page but not in ec2ha --help"


def test_cli_commands_match_man(cli):
    help_commands = cli["help"].split("Commands:", 1)[1]
    man_terms = pk.man_terms(cli["sections"].get("COMMANDS", ""))
    man_words = {t.split()[0] for t in man_terms if t}
    help_words = set()
    for line in help_commands.splitlines():
        # "   eip show [-a ID ...]   text": a command line starts with 3 spaces and a word
        if line.startswith("   ") and not line.startswith("    ") and line.strip():
            help_words.add(line.split()[0])
    assert help_words, "ec2ha --help lists no commands"
    assert help_words == man_words, (help_words, man_words)
