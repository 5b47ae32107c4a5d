/*
 * ec2ha/opts.h - one option table per program, the single source of truth.
 *
 * A program describes each option once (a row of ec2ha_option).  From that
 * table this module parses stdin key=value lines (fence-agents convention),
 * argv (getopt_long, built from the table), OCF_RESKEY_* environment and LSB
 * KEY=value files, and prints --help, fence-agents metadata XML, OCF
 * resource-agent metadata XML and a man page.  Nothing else may describe an
 * option.  Values are heap copies owned by the ec2ha_opt_values; secrets are
 * wiped on free.
 */
#ifndef EC2HA_OPTS_H
#define EC2HA_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ec2ha/error.h"

typedef enum ec2ha_opt_type {
    EC2HA_OPT_STRING = 0,
    EC2HA_OPT_BOOL,         /* true/false yes/no on/off 1/0; a bare flag on the command line */
    EC2HA_OPT_INT,          /* strtol, whole string, no overflow */
    EC2HA_OPT_SECONDS,      /* non-negative number of seconds, fractions allowed ("1.5") */
    EC2HA_OPT_SELECT        /* one of .choices */
} ec2ha_opt_type;

enum ec2ha_opt_flags {
    EC2HA_OPT_REQUIRED   = 1u << 0,  /* metadata required="1" */
    EC2HA_OPT_SECRET     = 1u << 1,  /* never logged; wiped on free */
    EC2HA_OPT_IGNORED    = 1u << 2,  /* accepted for compatibility, no effect (documented) */
    EC2HA_OPT_DEPRECATED = 1u << 3,  /* metadata deprecated="1" */
    EC2HA_OPT_HIDDEN     = 1u << 4,  /* not in metadata or man page (still parsed) */
    EC2HA_OPT_UNIQUE     = 1u << 5,  /* OCF unique="1" */
    EC2HA_OPT_NO_STDIN   = 1u << 6,  /* command line only (e.g. --help) */
    EC2HA_OPT_REPEATABLE = 1u << 7   /* a bool flag that counts (-v -v) */
};

typedef struct ec2ha_option {
    const char *name;            /* stdin key, OCF parameter, metadata name */
    int short_opt;               /* getopt letter, 0 for none */
    const char *long_opt;        /* NULL: name with '_' -> '-' */
    const char *alias_of;        /* non-NULL: this row is an alias of that option */
    ec2ha_opt_type type;
    const char *default_value;   /* NULL: none */
    unsigned flags;              /* enum ec2ha_opt_flags */
    const char *arg_name;        /* help/metadata placeholder, e.g. "id" */
    const char *shortdesc;       /* one line */
    const char *longdesc;        /* NULL: shortdesc */
    const char *const *choices;  /* NULL-terminated, for EC2HA_OPT_SELECT */
} ec2ha_option;

typedef enum ec2ha_opt_origin {
    EC2HA_ORIGIN_DEFAULT = 0,
    EC2HA_ORIGIN_STDIN,
    EC2HA_ORIGIN_ARGV,
    EC2HA_ORIGIN_ENV,
    EC2HA_ORIGIN_FILE
} ec2ha_opt_origin;

typedef struct ec2ha_opt_values {
    const ec2ha_option *table;
    size_t n;
    char **values;               /* per row; NULL when not given */
    ec2ha_opt_origin *origins;
    unsigned *counts;            /* times given (REPEATABLE flags) */
} ec2ha_opt_values;

typedef struct ec2ha_action_info {
    const char *name;            /* "start", "monitor", "off" */
    const char *timeout;         /* OCF: "30s"; fence: NULL */
    const char *interval;        /* OCF monitor interval or NULL */
    const char *depth;           /* OCF: "0" or NULL */
    bool on_target;              /* fence "on": on_target="1" */
    bool automatic;              /* fence "on": automatic="0" is printed when false */
    const char *description;     /* for help and the man page */
} ec2ha_action_info;

/* What kind of program the table belongs to: selects the man page layout and
 * the --help layout (fence: options + stdin parameters; OCF: parameters as
 * OCF_RESKEY_* / settings-file keys; CLI: options + commands). */
typedef enum ec2ha_program_kind {
    EC2HA_PROGRAM_FENCE = 0,
    EC2HA_PROGRAM_OCF,
    EC2HA_PROGRAM_CLI
} ec2ha_program_kind;

typedef struct ec2ha_program_info {
    const char *name;            /* "fence_ec2", "eip", "ec2ha" */
    const char *version;
    const char *shortdesc;
    const char *longdesc;
    const char *vendor_url;      /* fence metadata */
    const char *usage;           /* first help line after "Usage: " */
    const ec2ha_action_info *actions;
    size_t n_actions;
    const char *man_section;     /* "8", "7" */
    const char *man_name;        /* the page's name (NAME, .TH) when not `name`, or NULL */
    const char *man_extra;       /* extra roff (sections EXIT STATUS, EXAMPLES ...) or NULL */
    ec2ha_program_kind kind;     /* 0 (fence) unless set */
} ec2ha_program_info;

/* Parse a boolean word (case-insensitive): true/false yes/no on/off 1/0, and
 * Pacemaker's y/n.  EC2HA_ERR_INVALID names the accepted words. */
ec2ha_rc ec2ha_parse_bool(const char *s, bool *out, ec2ha_error *err);
/* Whole-string integer / seconds parsing with range checks and a message naming `what`. */
ec2ha_rc ec2ha_parse_long(const char *what, const char *s, long min, long max, long *out,
                          ec2ha_error *err);
/* Seconds: digits with an optional fraction ("30", "1.5") and an optional "s"
 * suffix ("30s"); no sign, exponent, hex, inf/nan or other units ("2min" is
 * rejected rather than misread).  0 <= value <= max. */
ec2ha_rc ec2ha_parse_seconds(const char *what, const char *s, double max, double *out,
                             ec2ha_error *err);

ec2ha_rc ec2ha_opts_init(ec2ha_opt_values *v, const ec2ha_option *table, size_t n,
                         ec2ha_error *err);
void ec2ha_opts_free(ec2ha_opt_values *v);

/* Row index for a name or alias (aliases resolve to their target), -1 if unknown. */
int ec2ha_opts_find(const ec2ha_opt_values *v, const char *name);

/* Set by name (aliases resolve).  EC2HA_ERR_NOT_FOUND for unknown names; type
 * errors give EC2HA_ERR_INVALID naming the option, value and what is valid. */
ec2ha_rc ec2ha_opts_set(ec2ha_opt_values *v, const char *name, const char *value,
                        ec2ha_opt_origin origin, ec2ha_error *err);

/*
 * fence-agents stdin: key=value lines, '#' comments and blank lines skipped,
 * surrounding whitespace trimmed, one pair of matching quotes stripped around
 * the value; unknown keys are logged as a warning (key only, never the value)
 * and ignored, except "nodename" which Pacemaker's fencer always sends.  A key
 * matches a name, an alias or a long option name, '-' and '_' being equal (as
 * fencing.py does).  NO_STDIN rows are ignored with a warning.  Unlike
 * fencing.py a bad value (bool word, number, select choice) is an error:
 * EC2HA_ERR_INVALID naming the line, option, value and valid range.
 * Later settings override earlier ones.
 */
ec2ha_rc ec2ha_opts_parse_stdin(ec2ha_opt_values *v, FILE *in, ec2ha_error *err);
/* Same from a memory buffer (for tests and fuzzing). */
ec2ha_rc ec2ha_opts_parse_text(ec2ha_opt_values *v, const char *text, size_t len,
                               ec2ha_opt_origin origin, ec2ha_error *err);

/* getopt_long built from the table; bool options take no argument ("-q",
 * "--quiet"; the long form also accepts "--flag=false" so default-true flags
 * can be switched off), each occurrence counts (-v -v).  Aliases are long
 * options too (--port).  Unknown options and missing values are an error; getopt
 * prints nothing.  GNU argument permutation: operands end up at the end.
 * *next_arg_out (optional): index of the first operand. */
ec2ha_rc ec2ha_opts_parse_argv(ec2ha_opt_values *v, int argc, char **argv, int *next_arg_out,
                               ec2ha_error *err);

/* <prefix><name> from the environment for each row (OCF: prefix "OCF_RESKEY_").
 * Empty variables count as not given; the canonical name wins over an alias. */
ec2ha_rc ec2ha_opts_parse_env(ec2ha_opt_values *v, const char *prefix, ec2ha_error *err);

/* LSB settings file: [export ]KEY=value with KEY = upper-cased name; values
 * 'single' or "double" quoted (\" \\ \$ \` escapes) or bare, then only a
 * '#' comment; unknown keys and broken quoting are warned and the line ignored.
 * Missing file: EC2HA_ERR_NOT_FOUND. */
ec2ha_rc ec2ha_opts_parse_kv_file(ec2ha_opt_values *v, const char *path, ec2ha_error *err);

/* EC2HA_ERR_INVALID naming the first REQUIRED option that has no value and no default. */
ec2ha_rc ec2ha_opts_check_required(const ec2ha_opt_values *v, ec2ha_error *err);

/* "default", "stdin", "command line", "environment", "settings file". */
const char *ec2ha_opt_origin_str(ec2ha_opt_origin origin);

/* Log every effective value with its origin at debug level (STYLE 13);
 * SECRET values are printed as "****", and in every other value the userinfo
 * of a URL is masked (see ec2ha_opts_mask_userinfo). */
void ec2ha_opts_log_effective(const ec2ha_opt_values *v);

/*
 * `value` with the userinfo of every URL in it masked by four asterisks: the
 * password of "http://user:pw@host" (the user stays), all of "https://token@host".
 * Heap string (free with ec2ha_free_secret); NULL when value is NULL or out of memory.
 */
char *ec2ha_opts_mask_userinfo(const char *value);

/* Value given, else default, else NULL. */
const char *ec2ha_opts_get(const ec2ha_opt_values *v, const char *name);
bool ec2ha_opts_is_set(const ec2ha_opt_values *v, const char *name);
unsigned ec2ha_opts_count(const ec2ha_opt_values *v, const char *name);
ec2ha_rc ec2ha_opts_get_bool(const ec2ha_opt_values *v, const char *name, bool *out,
                             ec2ha_error *err);
ec2ha_rc ec2ha_opts_get_long(const ec2ha_opt_values *v, const char *name, long min, long max,
                             long *out, ec2ha_error *err);
ec2ha_rc ec2ha_opts_get_seconds(const ec2ha_opt_values *v, const char *name, double max,
                                double *out, ec2ha_error *err);

/*
 * Output generated from the table.  SECRET rows never show a value (not even a
 * default); HIDDEN rows appear nowhere; NO_STDIN rows are not OCF parameters.
 * - help: fence-agents layout ("   -o, --action=[action]   text (Default Value: x)").
 * - fence metadata: fencing.py's exact layout; a DEPRECATED alias is printed as
 *   its own parameter with deprecated="1" and its target's getopt, the target
 *   gets obsoletes="<alias>"; types string/boolean/integer/second/select.
 *   Actions: "on" carries automatic="0|1"; on_target="1" when set.
 * - OCF metadata: ra-api-1.dtd (version 1.0); SECONDS -> "time", SELECT ->
 *   "string" with the allowed values in longdesc; aliases are never required;
 *   an action without timeout gets "20s" (the DTD requires one).
 * - man page: roff, layout chosen by info->kind.
 */
void ec2ha_opts_print_help(FILE *out, const ec2ha_program_info *info, const ec2ha_option *table,
                           size_t n);
void ec2ha_opts_print_fence_metadata(FILE *out, const ec2ha_program_info *info,
                                     const ec2ha_option *table, size_t n);
void ec2ha_opts_print_ocf_metadata(FILE *out, const ec2ha_program_info *info,
                                   const ec2ha_option *table, size_t n);
void ec2ha_opts_print_manpage(FILE *out, const ec2ha_program_info *info,
                              const ec2ha_option *table, size_t n);

#endif
