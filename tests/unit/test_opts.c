/* test_opts.c - the option table: parsing from every source, validation, and
 * every generated output (metadata validated against Pacemaker's own schemas). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec2ha/log.h"
#include "ec2ha/opts.h"

#define FENCE_RNG "/usr/share/cluster/relaxng/metadata.rng"
#define OCF_DTD "/usr/share/resource-agents/ra-api-1.dtd"
#define SECRET_DEFAULT "DefaultSecretMustNeverShow"

/* ---- log capture: the real logger, writing to a temporary file ------------------ */
static char log_path[] = "/tmp/ec2ha-test-opts-log-XXXXXX";

static char *log_text(void)
{
    char *text = NULL;
    FILE *f = fopen(log_path, "r");
    long len;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle)) {
        n++;
    }
    return n;
}

/* Number of WARNING lines so far; *all_out (optional): the whole log. */
static size_t warnings(char **all_out)
{
    char *text = log_text();
    size_t n = count_of(text, ": WARNING: ");

    if (all_out != NULL) {
        *all_out = text;
    } else {
        free(text);
    }
    return n;
}

static void reset_log(void)
{
    int fd;

    ec2ha_log_close();
    fd = mkstemp(log_path);
    assert_true(fd >= 0);
    close(fd);
    ec2ha_log_init("test_opts", EC2HA_LOG_DEBUG, EC2HA_LOG_TO_FILE, log_path);
}

static void end_log(void)
{
    ec2ha_log_close();
    unlink(log_path);
    memcpy(log_path + strlen(log_path) - 6, "XXXXXX", 6);
}

/* ---- the sample table ------------------------------------------------------- */

static const char *const modes[] = {"fast", "safe", NULL};

static const ec2ha_option table[] = {
    {.name = "action", .short_opt = 'o', .type = EC2HA_OPT_STRING, .default_value = "reboot",
     .flags = EC2HA_OPT_REQUIRED, .arg_name = "action", .shortdesc = "Fencing action"},
    {.name = "plug", .short_opt = 'n', .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_REQUIRED,
     .arg_name = "id", .shortdesc = "Instance id or node name of the target"},
    {.name = "port", .alias_of = "plug", .flags = EC2HA_OPT_DEPRECATED},
    {.name = "secret_key", .short_opt = 's', .type = EC2HA_OPT_STRING,
     .default_value = SECRET_DEFAULT, .flags = EC2HA_OPT_SECRET, .arg_name = "key",
     .shortdesc = "Secret Key"},
    {.name = "skip_race_check", .type = EC2HA_OPT_BOOL,
     .shortdesc = "Skip the check that this instance is running"},
    {.name = "skip_os_shutdown", .type = EC2HA_OPT_BOOL, .default_value = "true",
     .shortdesc = "Stop without an OS shutdown"},
    {.name = "retry_on", .type = EC2HA_OPT_INT, .default_value = "1", .arg_name = "attempts",
     .shortdesc = "Count of attempts to retry power on"},
    {.name = "power_timeout", .type = EC2HA_OPT_SECONDS, .default_value = "60",
     .shortdesc = "Test X seconds for status change after ON/OFF",
     .longdesc = "How long to wait for the instance to reach the requested state."},
    {.name = "mode", .short_opt = 'm', .type = EC2HA_OPT_SELECT, .default_value = "safe",
     .choices = modes, .shortdesc = "Operating mode"},
    {.name = "note", .type = EC2HA_OPT_STRING, .default_value = "a&b<c>\"d'",
     .shortdesc = "Text with <xml> & \"special\" 'characters'", .flags = EC2HA_OPT_UNIQUE},
    {.name = "legacy", .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_IGNORED,
     .shortdesc = "Old option"},
    {.name = "internal", .type = EC2HA_OPT_STRING, .flags = EC2HA_OPT_HIDDEN,
     .shortdesc = "Not documented"},
    {.name = "verbose", .short_opt = 'v', .type = EC2HA_OPT_BOOL,
     .flags = EC2HA_OPT_REPEATABLE, .shortdesc = "Verbose mode; repeat for more"},
    {.name = "help", .short_opt = 'h', .type = EC2HA_OPT_BOOL, .flags = EC2HA_OPT_NO_STDIN,
     .shortdesc = "Display help and exit"},
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

static const ec2ha_action_info fence_actions[] = {
    {.name = "on", .automatic = false, .description = "Power on machine."},
    {.name = "off", .description = "Power off machine."},
    {.name = "reboot", .description = "Reboot machine."},
    {.name = "status", .description = "Status of the instance."},
    {.name = "monitor", .description = "Check the health of the fence device."},
    {.name = "metadata", .description = "Display the XML metadata."},
};

static const ec2ha_program_info fence_info = {
    .name = "fence_test",
    .version = "0.1.0",
    .shortdesc = "Fence agent for <tests> & such",
    .longdesc = "fence_test is a test agent.\n\nIt has two paragraphs & an ampersand.\n"
                ".starts with a dot",
    .vendor_url = "https://example.com/?a=1&b=2",
    .actions = fence_actions,
    .n_actions = sizeof(fence_actions) / sizeof(fence_actions[0]),
    .man_section = "8",
    .man_extra = ".SH EXIT STATUS\n0 on success.\n",
    .kind = EC2HA_PROGRAM_FENCE,
};

static const ec2ha_action_info ocf_actions[] = {
    {.name = "start", .timeout = "30s", .description = "Associate the address here."},
    {.name = "stop", .timeout = "30s", .description = "Disassociate it."},
    {.name = "monitor", .timeout = "20s", .interval = "10s", .depth = "0",
     .description = "Check it."},
    {.name = "meta-data", .timeout = "5s", .description = "Print metadata."},
    {.name = "validate-all", .description = "Check the configuration."},
};

static const ec2ha_program_info ocf_info = {
    .name = "test_ra",
    .version = "0.1.0",
    .shortdesc = "Test resource agent",
    .longdesc = "A resource agent for tests & <checks>.",
    .actions = ocf_actions,
    .n_actions = sizeof(ocf_actions) / sizeof(ocf_actions[0]),
    .man_section = "7",
    .kind = EC2HA_PROGRAM_OCF,
};

static int setup(void **state)
{
    ec2ha_opt_values *v = calloc(1, sizeof(*v));
    ec2ha_error err;

    if (v == NULL || ec2ha_opts_init(v, table, N_TABLE, &err) != EC2HA_OK) {
        free(v);
        return -1;
    }
    reset_log();
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    end_log();
    ec2ha_opts_free(*state);
    free(*state);
    return 0;
}

static ec2ha_rc parse(ec2ha_opt_values *v, const char *text, ec2ha_error *err)
{
    return ec2ha_opts_parse_text(v, text, strlen(text), EC2HA_ORIGIN_STDIN, err);
}

/* ---- scalar parsers ------------------------------------------------------------ */

static void test_parse_bool_words(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "yes", "On", "1", "y"};
    static const char *const no[] = {"false", "No", "off", "0", "n"};
    ec2ha_error err;
    bool b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = false;
        assert_int_equal(ec2ha_parse_bool(yes[i], &b, &err), EC2HA_OK);
        assert_true(b);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        b = true;
        assert_int_equal(ec2ha_parse_bool(no[i], &b, &err), EC2HA_OK);
        assert_false(b);
    }
    b = true;
    assert_int_equal(ec2ha_parse_bool("maybe", &b, &err), EC2HA_ERR_INVALID);
    assert_true(b);   /* untouched on error */
    assert_non_null(strstr(err.message, "maybe"));
    assert_non_null(strstr(err.message, "yes/no"));
    assert_int_equal(ec2ha_parse_bool("", &b, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_bool(NULL, &b, &err), EC2HA_ERR_INVALID);
}

static void test_parse_long_ranges(void **state)
{
    ec2ha_error err;
    long l = 12345;

    (void)state;
    assert_int_equal(ec2ha_parse_long("x", "42", 0, 100, &l, &err), EC2HA_OK);
    assert_int_equal(l, 42);
    assert_int_equal(ec2ha_parse_long("x", "-5", -10, 10, &l, &err), EC2HA_OK);
    assert_int_equal(l, -5);
    l = 7;
    assert_int_equal(ec2ha_parse_long("retries", "101", 0, 100, &l, &err), EC2HA_ERR_INVALID);
    assert_int_equal(l, 7);
    assert_non_null(strstr(err.message, "retries"));
    assert_non_null(strstr(err.message, "101"));
    assert_non_null(strstr(err.message, "0 to 100"));
    assert_int_equal(ec2ha_parse_long("x", "12abc", 0, 100, &l, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_long("x", "", 0, 100, &l, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_long("x", " 5", 0, 100, &l, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_long("x", "99999999999999999999999", LONG_MIN, LONG_MAX, &l,
                                      &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "out of range"));
    assert_int_equal(l, 7);
}

static void test_parse_seconds(void **state)
{
    ec2ha_error err;
    double d = -1;

    (void)state;
    assert_int_equal(ec2ha_parse_seconds("t", "30", 100, &d, &err), EC2HA_OK);
    assert_true(d == 30.0);
    assert_int_equal(ec2ha_parse_seconds("t", "1.5", 100, &d, &err), EC2HA_OK);
    assert_true(d == 1.5);
    assert_int_equal(ec2ha_parse_seconds("t", "20s", 100, &d, &err), EC2HA_OK);
    assert_true(d == 20.0);
    assert_int_equal(ec2ha_parse_seconds("t", ".5", 100, &d, &err), EC2HA_OK);
    d = 3;
    assert_int_equal(ec2ha_parse_seconds("timeout", "2min", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "2min"));
    assert_non_null(strstr(err.message, "timeout"));
    assert_int_equal(ec2ha_parse_seconds("t", "-1", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "inf", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "nan", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "0x10", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "1e3", 10000, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", ".", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_int_equal(ec2ha_parse_seconds("t", "101", 100, &d, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "0 to 100"));
    assert_true(d == 3.0);
}

/* ---- table checks ---------------------------------------------------------------- */

static void test_init_rejects_bad_tables(void **state)
{
    static const ec2ha_option dup[] = {
        {.name = "a", .shortdesc = "A"},
        {.name = "a", .shortdesc = "A again"},
    };
    static const ec2ha_option dangling[] = {
        {.name = "a", .shortdesc = "A"},
        {.name = "b", .alias_of = "nope"},
    };
    static const ec2ha_option letters[] = {
        {.name = "a", .short_opt = 'x', .shortdesc = "A"},
        {.name = "b", .short_opt = 'x', .shortdesc = "B"},
    };
    static const ec2ha_option nochoices[] = {
        {.name = "a", .type = EC2HA_OPT_SELECT, .shortdesc = "A"},
    };
    ec2ha_opt_values v;
    ec2ha_error err;

    (void)state;
    assert_int_equal(ec2ha_opts_init(&v, dup, 2, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "twice"));
    assert_int_equal(ec2ha_opts_init(&v, dangling, 2, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "nope"));
    assert_int_equal(ec2ha_opts_init(&v, letters, 2, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "-x"));
    assert_int_equal(ec2ha_opts_init(&v, nochoices, 1, &err), EC2HA_ERR_INVALID);
    ec2ha_opts_free(&v);
    ec2ha_opts_free(NULL);
}

/* ---- defaults and getters --------------------------------------------------------- */

static void test_defaults(void **state)
{
    ec2ha_opt_values *v = *state;
    char *text = NULL;
    ec2ha_error err;
    double d = 0;
    bool b = false;
    long l = 0;

    assert_string_equal(ec2ha_opts_get(v, "action"), "reboot");
    assert_false(ec2ha_opts_is_set(v, "action"));
    assert_null(ec2ha_opts_get(v, "plug"));
    assert_null(ec2ha_opts_get(v, "port"));
    assert_null(ec2ha_opts_get(v, "no_such_option"));
    assert_int_equal(ec2ha_opts_find(v, "port"), ec2ha_opts_find(v, "plug"));
    assert_int_equal(ec2ha_opts_find(v, "nope"), -1);
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_os_shutdown", &b, &err), EC2HA_OK);
    assert_true(b);
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_race_check", &b, &err), EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "skip_race_check"));
    assert_int_equal(ec2ha_opts_get_long(v, "retry_on", 1, 10, &l, &err), EC2HA_OK);
    assert_int_equal(l, 1);
    assert_int_equal(ec2ha_opts_get_seconds(v, "power_timeout", 3600, &d, &err), EC2HA_OK);
    assert_true(d == 60.0);
    assert_string_equal(ec2ha_opts_get(v, "mode"), "safe");
    assert_int_equal(ec2ha_opts_count(v, "verbose"), 0);
    /* plug is required and has no default */
    assert_int_equal(ec2ha_opts_check_required(v, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "plug"));
    assert_int_equal(ec2ha_opts_set(v, "port", "node1", EC2HA_ORIGIN_STDIN, &err), EC2HA_OK);
    assert_int_equal(ec2ha_opts_check_required(v, &err), EC2HA_OK);
    assert_string_equal(ec2ha_opt_origin_str(EC2HA_ORIGIN_ARGV), "command line");
    assert_int_equal(ec2ha_opts_set(v, "secret_key", "wJalrXUtnFEMIsecretvalue",
                                    EC2HA_ORIGIN_ENV, &err), EC2HA_OK);
    ec2ha_opts_log_effective(v);
    text = log_text();
    assert_non_null(strstr(text, "option plug=node1 (stdin)"));
    assert_non_null(strstr(text, "option action=reboot (default)"));
    assert_non_null(strstr(text, "option secret_key=**** (environment)"));
    assert_null(strstr(text, "wJalrXUtnFEMIsecretvalue"));
    free(text);

    /* a password in a URL is masked in any option, secret or not */
    assert_int_equal(ec2ha_opts_set(v, "note", "http://alice:Pr0xyPw@proxy:3128/x",
                                    EC2HA_ORIGIN_ARGV, &err), EC2HA_OK);
    ec2ha_opts_log_effective(v);
    text = log_text();
    assert_non_null(strstr(text, "option note=http://alice:****@proxy:3128/x (command line)"));
    assert_null(strstr(text, "Pr0xyPw"));
    free(text);
}

static void test_mask_userinfo(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "http://alice:pw@proxy:3128", "http://alice:****@proxy:3128" },
        { "https://token@host/p@th", "https://****@host/p@th" },
        { "http://u:p:q@a@host", "http://u:****@host" },
        { "http://proxy:3128", "http://proxy:3128" },
        { "user:pw@host", "user:pw@host" },
        { "a=socks5h://u:p@h,b=http://v:w@i/", "a=socks5h://u:****@h,b=http://v:****@i/" },
        { "://x:y@z", "://x:y@z" },
        { "", "" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = ec2ha_opts_mask_userinfo(cases[i].in);
        assert_non_null(m);
        assert_string_equal(m, cases[i].out);
        free(m);
    }
    assert_null(ec2ha_opts_mask_userinfo(NULL));
}

static void test_get_ranges(void **state)
{
    ec2ha_opt_values *v = *state;
    ec2ha_error err;
    double d = 0;
    long l = 99;

    assert_int_equal(parse(v, "retry_on=50\npower_timeout=7200\n", &err), EC2HA_OK);
    assert_int_equal(ec2ha_opts_get_long(v, "retry_on", 1, 10, &l, &err), EC2HA_ERR_INVALID);
    assert_int_equal(l, 99);
    assert_non_null(strstr(err.message, "retry_on"));
    assert_non_null(strstr(err.message, "50"));
    assert_non_null(strstr(err.message, "1 to 10"));
    assert_non_null(strstr(err.message, "stdin"));
    assert_non_null(strstr(err.message, "rejected"));
    assert_int_equal(ec2ha_opts_get_seconds(v, "power_timeout", 3600, &d, &err),
                     EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "power_timeout"));
    assert_non_null(strstr(err.message, "7200"));
    assert_non_null(strstr(err.message, "3600"));
    assert_int_equal(ec2ha_opts_get_long(v, "nope", 0, 1, &l, &err), EC2HA_ERR_NOT_FOUND);
}

/* ---- stdin ------------------------------------------------------------------------- */

static void test_stdin_basic(void **state)
{
    ec2ha_opt_values *v = *state;
    ec2ha_error err;
    bool b = false;
    const char *text =
        "# a comment\n"
        "\n"
        "   action = off  \n"
        "plug=\"i-0123456789abcdef0\"\n"
        "mode='FAST'\n"
        "skip_race_check=yes\n"
        "skip-os-shutdown=off\n"
        "note=has=equals\n"
        "nodename=node2\n"
        "\r\n";

    assert_int_equal(parse(v, text, &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "action"), "off");
    assert_string_equal(ec2ha_opts_get(v, "plug"), "i-0123456789abcdef0");
    assert_string_equal(ec2ha_opts_get(v, "mode"), "fast");
    assert_string_equal(ec2ha_opts_get(v, "note"), "has=equals");
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_race_check", &b, &err), EC2HA_OK);
    assert_true(b);
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_os_shutdown", &b, &err), EC2HA_OK);
    assert_false(b);
    assert_int_equal(v->origins[ec2ha_opts_find(v, "plug")], EC2HA_ORIGIN_STDIN);
    assert_int_equal(warnings(NULL), 0);   /* nodename is expected from the fencer */
}

static void test_stdin_alias_and_unknown(void **state)
{
    ec2ha_opt_values *v = *state;
    char *text = NULL;
    ec2ha_error err;

    assert_int_equal(parse(v, "port=node1\nfrobnicate=secretish\n", &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "plug"), "node1");
    assert_string_equal(ec2ha_opts_get(v, "port"), "node1");
    assert_int_equal(parse(v, "justaword\n", &err), EC2HA_OK);
    assert_int_equal(parse(v, "help=1\n", &err), EC2HA_OK);   /* command line only */
    assert_false(ec2ha_opts_is_set(v, "help"));
    assert_int_equal(warnings(&text), 3);
    assert_non_null(strstr(text, "unknown option 'frobnicate'"));
    assert_null(strstr(text, "secretish"));   /* values are never echoed */
    assert_null(strstr(text, "justaword"));
    assert_non_null(strstr(text, "no '='"));
    assert_non_null(strstr(text, "'help' is for the command line only"));
    free(text);
}

static void test_stdin_bad_values(void **state)
{
    ec2ha_opt_values *v = *state;
    ec2ha_error err;

    assert_int_equal(parse(v, "action=off\nskip_race_check=maybe\n", &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "skip_race_check"));
    assert_non_null(strstr(err.message, "maybe"));
    assert_non_null(strstr(err.message, "true/false"));
    assert_non_null(strstr(err.message, "line 2"));
    assert_non_null(strstr(err.message, "rejected"));
    assert_false(ec2ha_opts_is_set(v, "skip_race_check"));

    assert_int_equal(parse(v, "retry_on=3x\n", &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "retry_on"));
    assert_non_null(strstr(err.message, "3x"));
    assert_int_equal(parse(v, "power_timeout=2min\n", &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "2min"));
    assert_int_equal(parse(v, "mode=slow\n", &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "slow"));
    assert_non_null(strstr(err.message, "fast, safe"));
    assert_string_equal(ec2ha_opts_get(v, "mode"), "safe");
    /* embedded NUL */
    assert_int_equal(ec2ha_opts_parse_text(v, "a=b\0c\n", 6, EC2HA_ORIGIN_STDIN, &err),
                     EC2HA_ERR_INVALID);
}

static void test_stdin_stream(void **state)
{
    ec2ha_opt_values *v = *state;
    static char text[] = "secret_key=wJalrXUtnFEMI/K7MDENG\nplug=node2\nverbose=1\n";
    ec2ha_error err;
    FILE *f = fmemopen(text, strlen(text), "r");

    assert_non_null(f);
    assert_int_equal(ec2ha_opts_parse_stdin(v, f, &err), EC2HA_OK);
    fclose(f);
    assert_string_equal(ec2ha_opts_get(v, "secret_key"), "wJalrXUtnFEMI/K7MDENG");
    assert_string_equal(ec2ha_opts_get(v, "plug"), "node2");
    assert_int_equal(ec2ha_opts_count(v, "verbose"), 1);
}

/* ---- argv ---------------------------------------------------------------------------- */

static void test_argv(void **state)
{
    ec2ha_opt_values *v = *state;
    char *argv[] = {"prog", "-o", "status", "--plug=i-1", "-v", "-v", "--skip-race-check",
                    "--retry-on", "3", "-vm", "fast", "--skip-os-shutdown=false", "operand",
                    "-s", "K", NULL};
    int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
    ec2ha_error err;
    int next = -1;
    bool b = true;
    long l = 0;

    assert_int_equal(ec2ha_opts_parse_argv(v, argc, argv, &next, &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "action"), "status");
    assert_string_equal(ec2ha_opts_get(v, "plug"), "i-1");
    assert_int_equal(ec2ha_opts_count(v, "verbose"), 3);
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_race_check", &b, &err), EC2HA_OK);
    assert_true(b);
    assert_int_equal(ec2ha_opts_get_bool(v, "skip_os_shutdown", &b, &err), EC2HA_OK);
    assert_false(b);
    assert_int_equal(ec2ha_opts_get_long(v, "retry_on", 1, 10, &l, &err), EC2HA_OK);
    assert_int_equal(l, 3);
    assert_string_equal(ec2ha_opts_get(v, "mode"), "fast");
    assert_string_equal(ec2ha_opts_get(v, "secret_key"), "K");
    assert_int_equal(v->origins[ec2ha_opts_find(v, "plug")], EC2HA_ORIGIN_ARGV);
    /* GNU getopt moves operands to the end */
    assert_int_equal(next, argc - 1);
    assert_string_equal(argv[next], "operand");
}

static void test_argv_errors(void **state)
{
    ec2ha_opt_values *v = *state;
    char *unknown_long[] = {"prog", "--frobnicate", NULL};
    char *unknown_short[] = {"prog", "-x", NULL};
    char *missing[] = {"prog", "--plug", NULL};
    char *missing_short[] = {"prog", "-n", NULL};
    char *badbool[] = {"prog", "--skip-race-check=perhaps", NULL};
    char *port[] = {"prog", "--port=i-9", NULL};
    ec2ha_error err;

    assert_int_equal(ec2ha_opts_parse_argv(v, 2, unknown_long, NULL, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "--frobnicate"));
    assert_int_equal(ec2ha_opts_parse_argv(v, 2, unknown_short, NULL, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "-x"));
    assert_int_equal(ec2ha_opts_parse_argv(v, 2, missing, NULL, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "--plug"));
    assert_non_null(strstr(err.message, "needs a value"));
    assert_int_equal(ec2ha_opts_parse_argv(v, 2, missing_short, NULL, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "-n"));
    assert_int_equal(ec2ha_opts_parse_argv(v, 2, badbool, NULL, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "perhaps"));
    /* an alias is a long option too, and the parser can run again */
    assert_int_equal(ec2ha_opts_parse_argv(v, 2, port, NULL, &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "plug"), "i-9");
}

/* ---- environment and settings file ---------------------------------------------------- */

static void test_env(void **state)
{
    ec2ha_opt_values *v = *state;
    ec2ha_error err;

    setenv("OCF_RESKEY_port", "from-alias", 1);
    setenv("OCF_RESKEY_plug", "from-canonical", 1);
    setenv("OCF_RESKEY_retry_on", "4", 1);
    setenv("OCF_RESKEY_action", "", 1);   /* empty: not given */
    assert_int_equal(ec2ha_opts_parse_env(v, "OCF_RESKEY_", &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "plug"), "from-canonical");
    assert_string_equal(ec2ha_opts_get(v, "retry_on"), "4");
    assert_false(ec2ha_opts_is_set(v, "action"));
    assert_int_equal(v->origins[ec2ha_opts_find(v, "retry_on")], EC2HA_ORIGIN_ENV);

    setenv("OCF_RESKEY_skip_race_check", "nope", 1);
    assert_int_equal(ec2ha_opts_parse_env(v, "OCF_RESKEY_", &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, "OCF_RESKEY_skip_race_check"));
    assert_non_null(strstr(err.message, "nope"));
    unsetenv("OCF_RESKEY_port");
    unsetenv("OCF_RESKEY_plug");
    unsetenv("OCF_RESKEY_retry_on");
    unsetenv("OCF_RESKEY_action");
    unsetenv("OCF_RESKEY_skip_race_check");
}

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/ec2ha-test-opts-XXXXXX");
    FILE *f;
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return path;
}

static void test_kv_file(void **state)
{
    ec2ha_opt_values *v = *state;
    ec2ha_error err;
    char *path = write_temp("# /etc/default/eip\n"
                            "PLUG=\"i-0abc\"   # trailing comment\n"
                            "export MODE=fast\n"
                            "NOTE='single $quoted'\n"
                            "SECRET_KEY=\"a\\\"b\"\n"
                            "UNKNOWN_THING=1\n"
                            "RETRY_ON=\"5\n");
    char *bad = write_temp("SKIP_RACE_CHECK=sometimes\n");

    assert_int_equal(ec2ha_opts_parse_kv_file(v, path, &err), EC2HA_OK);
    assert_string_equal(ec2ha_opts_get(v, "plug"), "i-0abc");
    assert_string_equal(ec2ha_opts_get(v, "mode"), "fast");
    assert_string_equal(ec2ha_opts_get(v, "note"), "single $quoted");
    assert_string_equal(ec2ha_opts_get(v, "secret_key"), "a\"b");
    assert_false(ec2ha_opts_is_set(v, "retry_on"));   /* unbalanced quote: ignored */
    assert_int_equal(warnings(NULL), 2);
    assert_int_equal(v->origins[ec2ha_opts_find(v, "plug")], EC2HA_ORIGIN_FILE);

    assert_int_equal(ec2ha_opts_parse_kv_file(v, bad, &err), EC2HA_ERR_INVALID);
    assert_non_null(strstr(err.message, bad));
    assert_non_null(strstr(err.message, "sometimes"));
    assert_int_equal(ec2ha_opts_parse_kv_file(v, "/nonexistent/ec2ha/eip", &err),
                     EC2HA_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "/nonexistent/ec2ha/eip"));
    unlink(path);
    unlink(bad);
    free(path);
    free(bad);
}

/* ---- outputs ----------------------------------------------------------------------------- */

typedef void (*printer)(FILE *, const ec2ha_program_info *, const ec2ha_option *, size_t);

static char *render(printer p, const ec2ha_program_info *info)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    p(f, info, table, N_TABLE);
    fclose(f);
    assert_null(strstr(text, SECRET_DEFAULT));   /* never, in any output */
    return text;
}

static void test_help(void **state)
{
    char *text = render(ec2ha_opts_print_help, &fence_info);

    (void)state;
    assert_non_null(strstr(text, "Usage:\n\tfence_test [options]\nOptions:\n"));
    assert_non_null(strstr(text, "   -o, --action=[action]          Fencing action "
                                 "(Default Value: reboot)\n"));
    assert_non_null(strstr(text, "   -n, --plug=[id]  "));
    assert_non_null(strstr(text, "   -v, --verbose  "));
    assert_non_null(strstr(text, "   --skip-os-shutdown=[true/false]"));
    assert_non_null(strstr(text, "   -m, --mode=[value]"));
    assert_non_null(strstr(text, "(one of: fast, safe)"));
    assert_null(strstr(text, "--port"));      /* aliases are not listed */
    assert_null(strstr(text, "internal"));    /* hidden */
    assert_non_null(strstr(text, "Actions:\n"));
    free(text);

    text = render(ec2ha_opts_print_help, &ocf_info);
    assert_non_null(strstr(text, "test_ra {start|stop|monitor|meta-data|validate-all}"));
    assert_non_null(strstr(text, "   plug  "));
    assert_null(strstr(text, "   help  "));   /* command-line only */
    free(text);
}

static bool have_tool(const char *check)
{
    return system(check) == 0;
}

static int run_validator(const char *content, const char *xmllint_args, const char *schema)
{
    char cmd[1024];
    char *path;
    int rc;

    path = write_temp(content);
    snprintf(cmd, sizeof(cmd), "xmllint --noout --path /usr/share/resource-agents %s %s %s",
             xmllint_args, schema, path);
    rc = system(cmd);
    unlink(path);
    free(path);
    return rc;
}

static void validate_with(const char *content, const char *xmllint_args, const char *schema)
{
    int rc = run_validator(content, xmllint_args, schema);

    if (rc != 0) {
        fprintf(stderr, "validation against %s failed; the document was:\n%s\n", schema,
                content);
    }
    assert_int_equal(rc, 0);
    /* Control: the validator really rejects a broken document. */
    fprintf(stderr, "(a validity error for a deliberately broken document follows)\n");
    assert_int_not_equal(run_validator("<resource-agent name=\"x\"/>\n", xmllint_args, schema),
                         0);
}

static void test_fence_metadata(void **state)
{
    char *xml = render(ec2ha_opts_print_fence_metadata, &fence_info);

    (void)state;
    assert_non_null(strstr(xml, "<?xml version=\"1.0\" ?>\n<resource-agent name=\"fence_test\" "
                                "shortdesc=\"Fence agent for &lt;tests&gt; &amp; such\" >\n"));
    assert_non_null(strstr(xml,
        "\t<parameter name=\"action\" unique=\"0\" required=\"1\">\n"
        "\t\t<getopt mixed=\"-o, --action=[action]\" />\n"
        "\t\t<content type=\"string\" default=\"reboot\"  />\n"
        "\t\t<shortdesc lang=\"en\">Fencing action</shortdesc>\n"
        "\t</parameter>\n"));
    assert_non_null(strstr(xml, "<parameter name=\"plug\" unique=\"0\" required=\"1\" "
                                "obsoletes=\"port\">"));
    assert_non_null(strstr(xml, "<parameter name=\"port\" unique=\"0\" required=\"1\" "
                                "deprecated=\"1\">\n\t\t<getopt mixed=\"-n, --plug=[id]\" />"));
    assert_non_null(strstr(xml, "<content type=\"second\" default=\"60\"  />"));
    assert_non_null(strstr(xml, "<content type=\"integer\" default=\"1\"  />"));
    assert_non_null(strstr(xml, "\t\t<content type=\"select\" default=\"safe\"  >\n"
                                "\t\t\t<option value=\"fast\" />\n"));
    assert_non_null(strstr(xml, "<getopt mixed=\"-v, --verbose\" />\n"
                                "\t\t<content type=\"boolean\"  />"));
    assert_non_null(strstr(xml, "default=\"a&amp;b&lt;c&gt;&quot;d&apos;\""));
    assert_non_null(strstr(xml, "<parameter name=\"secret_key\" unique=\"0\" required=\"0\">\n"
                                "\t\t<getopt mixed=\"-s, --secret-key=[key]\" />\n"
                                "\t\t<content type=\"string\"  />"));
    assert_non_null(strstr(xml, "\t<action name=\"on\" automatic=\"0\"/>\n"
                                "\t<action name=\"off\" />\n"));
    assert_null(strstr(xml, "internal"));
    if (!have_tool("command -v xmllint >/dev/null 2>&1") || access(FENCE_RNG, R_OK) != 0) {
        free(xml);
        skip();
    }
    validate_with(xml, "--relaxng", FENCE_RNG);
    free(xml);
}

static void test_ocf_metadata(void **state)
{
    char *xml = render(ec2ha_opts_print_ocf_metadata, &ocf_info);

    (void)state;
    assert_non_null(strstr(xml, "<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
                                "<resource-agent name=\"test_ra\" version=\"0.1.0\">\n"
                                "<version>1.0</version>\n"));
    assert_non_null(strstr(xml, "<parameter name=\"plug\" unique=\"0\" required=\"1\">"));
    assert_non_null(strstr(xml, "<parameter name=\"port\" unique=\"0\" required=\"0\">"));
    assert_non_null(strstr(xml, "Deprecated alias of plug."));
    assert_non_null(strstr(xml, "<content type=\"time\" default=\"60\" />"));
    assert_non_null(strstr(xml, "Allowed values: fast, safe."));
    assert_non_null(strstr(xml, "<parameter name=\"note\" unique=\"1\""));
    assert_non_null(strstr(xml, "<action name=\"monitor\" timeout=\"20s\" interval=\"10s\" "
                                "depth=\"0\" />"));
    assert_non_null(strstr(xml, "<action name=\"validate-all\" timeout=\"20s\" />"));
    assert_null(strstr(xml, "name=\"help\""));
    if (!have_tool("command -v xmllint >/dev/null 2>&1") || access(OCF_DTD, R_OK) != 0) {
        free(xml);
        skip();
    }
    validate_with(xml, "--dtdvalid", OCF_DTD);
    free(xml);
}

static void test_manpage(void **state)
{
    char *man = render(ec2ha_opts_print_manpage, &fence_info);

    (void)state;
    assert_true(strncmp(man, ".TH FENCE_TEST 8 ", 17) == 0);
    assert_non_null(strstr(man, ".SH NAME\nfence_test \\- Fence agent"));
    assert_non_null(strstr(man, ".SH SYNOPSIS\n"));
    assert_non_null(strstr(man, ".SH DESCRIPTION\nfence_test is a test agent.\n.PP\n"));
    assert_non_null(strstr(man, "\\&.starts with a dot"));
    assert_non_null(strstr(man, ".SH OPTIONS\n"));
    assert_non_null(strstr(man, ".TP\n.B \\-o, \\-\\-action=[action]\n"));
    assert_non_null(strstr(man, ".br\nDefault Value: reboot\n"));
    assert_non_null(strstr(man, ".SH ACTIONS\n.TP\n.B on\nPower on machine.\n"));
    assert_non_null(strstr(man, ".SH STDIN PARAMETERS\n"));
    assert_non_null(strstr(man, "Obsoletes: port"));
    assert_non_null(strstr(man, "This parameter is always required."));
    assert_non_null(strstr(man, ".SH EXIT STATUS\n0 on success.\n"));
    free(man);

    man = render(ec2ha_opts_print_manpage, &ocf_info);
    assert_true(strncmp(man, ".TH TEST_RA 7 ", 14) == 0);
    assert_non_null(strstr(man, ".SH PARAMETERS\n"));
    assert_null(strstr(man, ".SH OPTIONS"));
    assert_non_null(strstr(man, "(timeout 20s, interval 10s)"));
    free(man);
    if (have_tool("command -v groff >/dev/null 2>&1")) {
        char *path = NULL;
        char cmd[512];

        man = render(ec2ha_opts_print_manpage, &fence_info);
        path = write_temp(man);
        snprintf(cmd, sizeof(cmd),
                 "groff -man -Tutf8 -ww -z %s 2>&1 | grep -q . && exit 1 || exit 0", path);
        assert_int_equal(system(cmd), 0);   /* no roff warnings */
        unlink(path);
        free(path);
        free(man);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bool_words),
        cmocka_unit_test(test_parse_long_ranges),
        cmocka_unit_test(test_parse_seconds),
        cmocka_unit_test(test_init_rejects_bad_tables),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test(test_mask_userinfo),
        cmocka_unit_test_setup_teardown(test_get_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_alias_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_file, setup, teardown),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_fence_metadata),
        cmocka_unit_test(test_ocf_metadata),
        cmocka_unit_test(test_manpage),
    };

    return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
