/*
 * opts_print.c - everything printed from the option table: --help, the
 * fence-agents metadata XML (valid against Pacemaker's metadata.rng), OCF
 * resource-agent metadata (ra-api-1.dtd) and a roff man page.
 *
 * Secret options never show a value (not even a default).  The layout of the
 * fence outputs follows fencing.py byte for byte where it can, so tools that
 * scrape fence_aws output read ours the same way.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ec2ha/opts.h"
#include "opts_private.h"

#define HELP_OPT_WIDTH 31      /* fencing.py: help text starts at column 3 + 31 */
#define HELP_LINE_WIDTH 85     /* fencing.py _join_wrap width */
#define HELP_CONT_INDENT 40    /* fencing.py continuation indent */
#define OCF_DEFAULT_TIMEOUT "20s"
#define MIXED_MAX 256

/* ---- escaping ----------------------------------------------------------------- */

static void xml_escape(FILE *out, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            fputc(*s, out);
            break;
        }
    }
}

/* roff: backslashes become \e; `dash` also turns '-' into \- (option names). */
static void roff_escape(FILE *out, const char *s, bool dash)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (*s == '\\') {
            fputs("\\e", out);
        } else if (dash && *s == '-') {
            fputs("\\-", out);
        } else {
            fputc(*s, out);
        }
    }
}

/* Running text: each line escaped, a leading '.' or '\'' neutralised, blank
 * lines as paragraph breaks. */
static void roff_text(FILE *out, const char *s)
{
    bool line_start = true;

    for (; s != NULL && *s != '\0'; s++) {
        if (line_start) {
            if (*s == '\n') {
                fputs(".PP\n", out);
                while (s[1] == '\n') {
                    s++;
                }
                continue;
            }
            if (*s == '.' || *s == '\'') {
                fputs("\\&", out);
            }
        }
        line_start = *s == '\n';
        if (*s == '\\') {
            fputs("\\e", out);
        } else {
            fputc(*s, out);
        }
    }
    if (!line_start) {
        fputc('\n', out);
    }
}

/* ---- table helpers ------------------------------------------------------------ */

static const ec2ha_option *target_row(const ec2ha_option *table, size_t n, size_t i)
{
    int t = ec2ha_opts__target(table, n, i);

    return t >= 0 ? &table[t] : &table[i];
}

static const char *row_shortdesc(const ec2ha_option *table, size_t n, size_t i)
{
    if (table[i].shortdesc != NULL) {
        return table[i].shortdesc;
    }
    return target_row(table, n, i)->shortdesc;
}

static const char *row_longdesc(const ec2ha_option *table, size_t n, size_t i)
{
    if (table[i].longdesc != NULL) {
        return table[i].longdesc;
    }
    return row_shortdesc(table, n, i);
}

static const char *arg_placeholder(const ec2ha_option *o, const ec2ha_option *t)
{
    if (o->arg_name != NULL) {
        return o->arg_name;
    }
    if (t->arg_name != NULL) {
        return t->arg_name;
    }
    switch (t->type) {
    case EC2HA_OPT_INT:
        return "number";
    case EC2HA_OPT_SECONDS:
        return "seconds";
    default:
        return "value";
    }
}

/* fence-agents "getopt mixed": "-o, --action=[action]", "-q, --quiet". */
static const char *mixed_of(const ec2ha_option *table, size_t n, size_t i, char *buf,
                            size_t size)
{
    const ec2ha_option *o = &table[i];
    const ec2ha_option *t = target_row(table, n, i);
    char lname[EC2HA_OPT_NAME_MAX];
    char sbuf[8] = "";

    /* A deprecated alias shows its replacement's options, as fence_aws does for port. */
    if (o->alias_of != NULL && (o->flags & EC2HA_OPT_DEPRECATED)) {
        o = t;
    }
    if (o->short_opt != 0 && o->alias_of == NULL) {
        snprintf(sbuf, sizeof(sbuf), "-%c, ", o->short_opt);
    }
    ec2ha_opts__long_name(o, lname, sizeof(lname));
    if (t->type == EC2HA_OPT_BOOL) {
        snprintf(buf, size, "%s--%s%s", sbuf, lname,
                 ec2ha_opts__bool_default_true(t) ? "=[true/false]" : "");
    } else {
        snprintf(buf, size, "%s--%s=[%s]", sbuf, lname, arg_placeholder(o, t));
    }
    return buf;
}

static bool shows_default(const ec2ha_option *t)
{
    return t->default_value != NULL && !(t->flags & EC2HA_OPT_SECRET);
}

/* ---- --help ------------------------------------------------------------------- */

/* Word-wrap `text` starting at column `col`; continuation lines at `indent`. */
static void wrap(FILE *out, const char *text, size_t col, size_t indent)
{
    const char *p = text;
    bool first_word = true;

    while (*p != '\0') {
        size_t wlen;

        while (*p == ' ' || *p == '\n' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        wlen = strcspn(p, " \n\t");
        if (!first_word && col + 1 + wlen > HELP_LINE_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (!first_word) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)wlen, p);
        col += wlen;
        p += wlen;
        first_word = false;
    }
    fputc('\n', out);
}

static void help_entry(FILE *out, const char *left, const char *text)
{
    size_t llen = strlen(left);

    fprintf(out, "   %s", left);
    if (llen < HELP_OPT_WIDTH) {
        fprintf(out, "%*s", (int)(HELP_OPT_WIDTH - llen), "");
        llen = HELP_OPT_WIDTH;
    } else {
        fputc(' ', out);
        llen++;
    }
    wrap(out, text, 3 + llen, HELP_CONT_INDENT);
}

/* Description with the notes every output shares: choices, default, status. */
static void describe(char *buf, size_t size, const ec2ha_option *table, size_t n, size_t i,
                     bool with_default)
{
    const ec2ha_option *o = &table[i];
    const ec2ha_option *t = target_row(table, n, i);
    size_t len;
    size_t k;

    snprintf(buf, size, "%s", row_shortdesc(table, n, i));
    len = strlen(buf);
    if (t->type == EC2HA_OPT_SELECT && len < size) {
        len += (size_t)snprintf(buf + len, size - len, " (one of:");
        for (k = 0; t->choices[k] != NULL && len < size; k++) {
            len += (size_t)snprintf(buf + len, size - len, "%s %s", k > 0 ? "," : "",
                                    t->choices[k]);
        }
        if (len < size) {
            len += (size_t)snprintf(buf + len, size - len, ")");
        }
    }
    if (o->alias_of != NULL && len < size) {
        len += (size_t)snprintf(buf + len, size - len, " (alias of %s)", o->alias_of);
    }
    if ((o->flags & EC2HA_OPT_IGNORED) && len < size) {
        len += (size_t)snprintf(buf + len, size - len,
                                " (accepted for compatibility, has no effect)");
    }
    if (with_default && shows_default(t) && len < size) {
        snprintf(buf + len, size - len, " (Default Value: %s)", t->default_value);
    }
}

static bool listed(const ec2ha_option *o)
{
    return !(o->flags & EC2HA_OPT_HIDDEN);
}

void ec2ha_opts_print_help(FILE *out, const ec2ha_program_info *info, const ec2ha_option *table,
                           size_t n)
{
    char left[MIXED_MAX];
    char text[2048];
    size_t i;

    fprintf(out, "Usage:\n\t");
    if (info->usage != NULL) {
        fprintf(out, "%s\n", info->usage);
    } else if (info->kind == EC2HA_PROGRAM_OCF) {
        fprintf(out, "%s {", info->name);
        for (i = 0; i < info->n_actions; i++) {
            fprintf(out, "%s%s", i > 0 ? "|" : "", info->actions[i].name);
        }
        fprintf(out, "}\n");
    } else {
        fprintf(out, "%s [options]\n", info->name);
    }
    if (info->kind == EC2HA_PROGRAM_OCF) {
        fprintf(out, "Parameters (OCF_RESKEY_<name> in the environment, or NAME=value in the "
                     "settings file):\n");
    } else {
        fprintf(out, "Options:\n");
    }
    for (i = 0; i < n; i++) {
        const ec2ha_option *o = &table[i];

        if (!listed(o)) {
            continue;
        }
        if (info->kind == EC2HA_PROGRAM_OCF) {
            if (o->flags & EC2HA_OPT_NO_STDIN) {
                continue;
            }
            snprintf(left, sizeof(left), "%s", o->name);
        } else {
            if (o->alias_of != NULL) {
                continue;   /* the stdin/metadata name; the target's option covers it */
            }
            mixed_of(table, n, i, left, sizeof(left));
        }
        describe(text, sizeof(text), table, n, i, true);
        help_entry(out, left, text);
    }
    if (info->n_actions > 0) {
        fprintf(out, "%s:\n", info->kind == EC2HA_PROGRAM_CLI ? "Commands" : "Actions");
        for (i = 0; i < info->n_actions; i++) {
            const ec2ha_action_info *a = &info->actions[i];

            help_entry(out, a->name, a->description != NULL ? a->description : "");
        }
    }
}

/* ---- fence-agents metadata ------------------------------------------------------ */

static const char *fence_type(ec2ha_opt_type t)
{
    switch (t) {
    case EC2HA_OPT_BOOL:
        return "boolean";
    case EC2HA_OPT_INT:
        return "integer";
    case EC2HA_OPT_SECONDS:
        return "second";
    case EC2HA_OPT_SELECT:
        return "select";
    default:
        return "string";
    }
}

/* First deprecated alias of row i (for obsoletes=), or NULL. */
static const char *obsoleted_alias(const ec2ha_option *table, size_t n, size_t i)
{
    size_t j;

    for (j = 0; j < n; j++) {
        if (table[j].alias_of != NULL && strcmp(table[j].alias_of, table[i].name) == 0
            && (table[j].flags & EC2HA_OPT_DEPRECATED) && listed(&table[j])) {
            return table[j].name;
        }
    }
    return NULL;
}

static void fence_parameter(FILE *out, const ec2ha_option *table, size_t n, size_t i)
{
    const ec2ha_option *o = &table[i];
    const ec2ha_option *t = target_row(table, n, i);
    const char *obsoletes = o->alias_of == NULL ? obsoleted_alias(table, n, i) : NULL;
    char mixed[MIXED_MAX];
    char text[2048];
    size_t k;

    fprintf(out, "\t<parameter name=\"");
    xml_escape(out, o->name);
    fprintf(out, "\" unique=\"%d\" required=\"%d\"", (t->flags & EC2HA_OPT_UNIQUE) ? 1 : 0,
            (t->flags & EC2HA_OPT_REQUIRED) ? 1 : 0);
    if (o->flags & EC2HA_OPT_DEPRECATED) {
        fprintf(out, " deprecated=\"1\"");
    }
    if (obsoletes != NULL) {
        fprintf(out, " obsoletes=\"");
        xml_escape(out, obsoletes);
        fprintf(out, "\"");
    }
    fprintf(out, ">\n\t\t<getopt mixed=\"");
    xml_escape(out, mixed_of(table, n, i, mixed, sizeof(mixed)));
    fprintf(out, "\" />\n\t\t<content type=\"%s\" ", fence_type(t->type));
    if (shows_default(t)) {
        fprintf(out, "default=\"");
        xml_escape(out, t->default_value);
        fprintf(out, "\" ");
    }
    if (t->type == EC2HA_OPT_SELECT) {
        fprintf(out, " >\n");
        for (k = 0; t->choices[k] != NULL; k++) {
            fprintf(out, "\t\t\t<option value=\"");
            xml_escape(out, t->choices[k]);
            fprintf(out, "\" />\n");
        }
        fprintf(out, "\t\t</content>\n");
    } else {
        fprintf(out, " />\n");
    }
    describe(text, sizeof(text), table, n, i, false);
    fprintf(out, "\t\t<shortdesc lang=\"en\">");
    xml_escape(out, text);
    fprintf(out, "</shortdesc>\n\t</parameter>\n");
}

void ec2ha_opts_print_fence_metadata(FILE *out, const ec2ha_program_info *info,
                                     const ec2ha_option *table, size_t n)
{
    size_t i;

    fprintf(out, "<?xml version=\"1.0\" ?>\n<resource-agent name=\"");
    xml_escape(out, info->name);
    fprintf(out, "\" shortdesc=\"");
    xml_escape(out, info->shortdesc);
    fprintf(out, "\" >\n<longdesc>");
    xml_escape(out, info->longdesc != NULL ? info->longdesc : info->shortdesc);
    fprintf(out, "</longdesc>\n<vendor-url>");
    xml_escape(out, info->vendor_url != NULL ? info->vendor_url : "");
    fprintf(out, "</vendor-url>\n<parameters>\n");
    for (i = 0; i < n; i++) {
        if (listed(&table[i])) {
            fence_parameter(out, table, n, i);
        }
    }
    fprintf(out, "</parameters>\n<actions>\n");
    for (i = 0; i < info->n_actions; i++) {
        const ec2ha_action_info *a = &info->actions[i];

        fprintf(out, "\t<action name=\"");
        xml_escape(out, a->name);
        fprintf(out, "\"");
        if (a->on_target) {
            fprintf(out, " on_target=\"1\"");
        }
        if (strcmp(a->name, "on") == 0) {
            fprintf(out, " automatic=\"%d\"/>\n", a->automatic ? 1 : 0);
        } else {
            fprintf(out, " />\n");
        }
    }
    fprintf(out, "</actions>\n</resource-agent>\n");
}

/* ---- OCF metadata ---------------------------------------------------------------- */

static const char *ocf_type(ec2ha_opt_type t)
{
    switch (t) {
    case EC2HA_OPT_BOOL:
        return "boolean";
    case EC2HA_OPT_INT:
        return "integer";
    case EC2HA_OPT_SECONDS:
        return "time";    /* ra-api-1.dtd has no "second"; values are plain seconds */
    default:
        return "string";  /* the DTD has no select: choices are listed in the text */
    }
}

static void ocf_parameter(FILE *out, const ec2ha_option *table, size_t n, size_t i)
{
    const ec2ha_option *o = &table[i];
    const ec2ha_option *t = target_row(table, n, i);
    size_t k;

    fprintf(out, "<parameter name=\"");
    xml_escape(out, o->name);
    /* An alias is never required: the target's name satisfies it. */
    fprintf(out, "\" unique=\"%d\" required=\"%d\">\n<longdesc lang=\"en\">\n",
            (t->flags & EC2HA_OPT_UNIQUE) ? 1 : 0,
            (o->alias_of == NULL && (o->flags & EC2HA_OPT_REQUIRED)) ? 1 : 0);
    xml_escape(out, row_longdesc(table, n, i));
    if (o->alias_of != NULL) {
        fprintf(out, "\n%s of ", (o->flags & EC2HA_OPT_DEPRECATED) ? "Deprecated alias"
                                                                  : "Alias");
        xml_escape(out, o->alias_of);
        fprintf(out, ".");
    } else if (o->flags & EC2HA_OPT_DEPRECATED) {
        fprintf(out, "\nDeprecated.");
    }
    if (o->flags & EC2HA_OPT_IGNORED) {
        fprintf(out, "\nAccepted for compatibility; has no effect.");
    }
    if (t->type == EC2HA_OPT_SELECT) {
        fprintf(out, "\nAllowed values:");
        for (k = 0; t->choices[k] != NULL; k++) {
            fprintf(out, "%s ", k > 0 ? "," : "");
            xml_escape(out, t->choices[k]);
        }
        fprintf(out, ".");
    }
    fprintf(out, "\n</longdesc>\n<shortdesc lang=\"en\">");
    xml_escape(out, row_shortdesc(table, n, i));
    fprintf(out, "</shortdesc>\n<content type=\"%s\"", ocf_type(t->type));
    if (shows_default(t)) {
        fprintf(out, " default=\"");
        xml_escape(out, t->default_value);
        fprintf(out, "\"");
    }
    fprintf(out, " />\n</parameter>\n\n");
}

void ec2ha_opts_print_ocf_metadata(FILE *out, const ec2ha_program_info *info,
                                   const ec2ha_option *table, size_t n)
{
    size_t i;

    fprintf(out, "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
                 "<resource-agent name=\"");
    xml_escape(out, info->name);
    fprintf(out, "\" version=\"");
    xml_escape(out, info->version != NULL ? info->version : "1.0");
    fprintf(out, "\">\n<version>1.0</version>\n\n<longdesc lang=\"en\">\n");
    xml_escape(out, info->longdesc != NULL ? info->longdesc : info->shortdesc);
    fprintf(out, "\n</longdesc>\n<shortdesc lang=\"en\">");
    xml_escape(out, info->shortdesc);
    fprintf(out, "</shortdesc>\n\n<parameters>\n\n");
    for (i = 0; i < n; i++) {
        if (listed(&table[i]) && !(table[i].flags & EC2HA_OPT_NO_STDIN)) {
            ocf_parameter(out, table, n, i);
        }
    }
    fprintf(out, "</parameters>\n\n<actions>\n");
    for (i = 0; i < info->n_actions; i++) {
        const ec2ha_action_info *a = &info->actions[i];

        fprintf(out, "<action name=\"");
        xml_escape(out, a->name);
        fprintf(out, "\" timeout=\"");
        xml_escape(out, a->timeout != NULL ? a->timeout : OCF_DEFAULT_TIMEOUT);
        fprintf(out, "\"");
        if (a->interval != NULL) {
            fprintf(out, " interval=\"");
            xml_escape(out, a->interval);
            fprintf(out, "\"");
        }
        if (a->depth != NULL) {
            fprintf(out, " depth=\"");
            xml_escape(out, a->depth);
            fprintf(out, "\"");
        }
        fprintf(out, " />\n");
    }
    fprintf(out, "</actions>\n</resource-agent>\n");
}

/* ---- man page ---------------------------------------------------------------------- */

static void man_header(FILE *out, const ec2ha_program_info *info)
{
    const char *page = info->man_name != NULL ? info->man_name : info->name;
    const char *p;

    fprintf(out, ".TH ");
    for (p = page; *p != '\0'; p++) {
        fputc(toupper((unsigned char)*p), out);
    }
    fprintf(out, " %s \"\" \"", info->man_section != NULL ? info->man_section : "8");
    roff_escape(out, info->name, false);
    if (info->version != NULL) {
        fputc(' ', out);
        roff_escape(out, info->version, false);
    }
    fprintf(out, "\" \"ec2ha\"\n.SH NAME\n");
    roff_escape(out, page, false);
    fprintf(out, " \\- ");
    roff_escape(out, info->shortdesc, false);
    fputc('\n', out);
}

static void man_synopsis(FILE *out, const ec2ha_program_info *info)
{
    size_t i;

    fprintf(out, ".SH SYNOPSIS\n");
    switch (info->kind) {
    case EC2HA_PROGRAM_OCF:
        fprintf(out, "[\\fBOCF_RESKEY_\\fR\\fIparameter\\fR=\\fIvalue\\fR ...] \\fB");
        roff_escape(out, info->name, false);
        fprintf(out, "\\fR {");
        for (i = 0; i < info->n_actions; i++) {
            fprintf(out, "%s", i > 0 ? "|" : "");
            roff_escape(out, info->actions[i].name, true);
        }
        fprintf(out, "}\n");
        break;
    case EC2HA_PROGRAM_FENCE:
        fprintf(out, "\\fB");
        roff_escape(out, info->name, false);
        fprintf(out, "\\fR [\\fIOPTIONS\\fR]\n.br\n\\fB");
        roff_escape(out, info->name, false);
        fprintf(out, "\\fR < \\fIparameters\\fR (key=value lines on stdin)\n");
        break;
    default:
        if (info->usage != NULL) {
            roff_escape(out, info->usage, true);
            fputc('\n', out);
        } else {
            fprintf(out, "\\fB");
            roff_escape(out, info->name, false);
            fprintf(out, "\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR\n");
        }
        break;
    }
}

static void man_entry_text(FILE *out, const ec2ha_option *table, size_t n, size_t i,
                           bool stdin_names)
{
    const ec2ha_option *o = &table[i];
    const ec2ha_option *t = target_row(table, n, i);
    const char *obsoletes = o->alias_of == NULL ? obsoleted_alias(table, n, i) : NULL;
    char text[4096];

    describe(text, sizeof(text), table, n, i, false);
    if (row_longdesc(table, n, i) != row_shortdesc(table, n, i)) {
        size_t len = strlen(text);

        snprintf(text + len, sizeof(text) - len, ". %s", row_longdesc(table, n, i));
    }
    roff_text(out, text);
    if (shows_default(t)) {
        fprintf(out, ".br\nDefault Value: ");
        roff_escape(out, t->default_value, false);
        fputc('\n', out);
    }
    if (o->alias_of == NULL && (o->flags & EC2HA_OPT_REQUIRED)) {
        fprintf(out, ".br\nThis parameter is always required.\n");
    }
    if (stdin_names && obsoletes != NULL) {
        fprintf(out, ".br\nObsoletes: ");
        roff_escape(out, obsoletes, false);
        fputc('\n', out);
    }
    if (o->flags & EC2HA_OPT_DEPRECATED) {
        fprintf(out, ".br\nDeprecated.\n");
    }
}

static void man_options(FILE *out, const ec2ha_option *table, size_t n)
{
    char mixed[MIXED_MAX];
    size_t i;

    fprintf(out, ".SH OPTIONS\n");
    for (i = 0; i < n; i++) {
        if (!listed(&table[i]) || table[i].alias_of != NULL) {
            continue;
        }
        fprintf(out, ".TP\n.B ");
        roff_escape(out, mixed_of(table, n, i, mixed, sizeof(mixed)), true);
        fputc('\n', out);
        man_entry_text(out, table, n, i, false);
    }
}

static void man_parameters(FILE *out, const char *title, const ec2ha_option *table, size_t n)
{
    size_t i;

    fprintf(out, ".SH %s\n", title);
    for (i = 0; i < n; i++) {
        if (!listed(&table[i]) || (table[i].flags & EC2HA_OPT_NO_STDIN)) {
            continue;
        }
        fprintf(out, ".TP\n.B ");
        roff_escape(out, table[i].name, false);
        fputc('\n', out);
        man_entry_text(out, table, n, i, true);
    }
}

static void man_actions(FILE *out, const ec2ha_program_info *info)
{
    size_t i;

    if (info->n_actions == 0) {
        return;
    }
    fprintf(out, ".SH %s\n", info->kind == EC2HA_PROGRAM_CLI ? "COMMANDS" : "ACTIONS");
    for (i = 0; i < info->n_actions; i++) {
        const ec2ha_action_info *a = &info->actions[i];

        fprintf(out, ".TP\n.B ");
        roff_escape(out, a->name, true);
        fputc('\n', out);
        roff_text(out, a->description != NULL ? a->description : "");
        if (info->kind == EC2HA_PROGRAM_OCF) {
            fprintf(out, "(timeout %s", a->timeout != NULL ? a->timeout : OCF_DEFAULT_TIMEOUT);
            if (a->interval != NULL) {
                fprintf(out, ", interval %s", a->interval);
            }
            fprintf(out, ")\n");
        }
    }
}

void ec2ha_opts_print_manpage(FILE *out, const ec2ha_program_info *info,
                              const ec2ha_option *table, size_t n)
{
    man_header(out, info);
    man_synopsis(out, info);
    fprintf(out, ".SH DESCRIPTION\n");
    roff_text(out, info->longdesc != NULL ? info->longdesc : info->shortdesc);
    if (info->kind == EC2HA_PROGRAM_FENCE) {
        fprintf(out, ".PP\n");
        roff_escape(out, info->name, false);
        fprintf(out, " accepts options on the command line as well as from stdin. "
                     "Pacemaker's fencer sends parameters through stdin when it runs the "
                     "agent; run it with command line options for testing.\n");
    } else if (info->kind == EC2HA_PROGRAM_OCF) {
        fprintf(out, ".PP\nParameters come from the environment as OCF_RESKEY_\\fIname\\fR "
                     "when Pacemaker runs the agent.\n");
    }
    if (info->vendor_url != NULL) {
        fprintf(out, ".PP\nVendor URL: ");
        roff_escape(out, info->vendor_url, false);
        fputc('\n', out);
    }
    switch (info->kind) {
    case EC2HA_PROGRAM_OCF:
        man_parameters(out, "PARAMETERS", table, n);
        man_actions(out, info);
        break;
    case EC2HA_PROGRAM_FENCE:
        man_options(out, table, n);
        man_actions(out, info);
        man_parameters(out, "STDIN PARAMETERS", table, n);
        break;
    default:
        man_options(out, table, n);
        man_actions(out, info);
        break;
    }
    if (info->man_extra != NULL) {
        fputs(info->man_extra, out);
        if (info->man_extra[0] != '\0' && info->man_extra[strlen(info->man_extra) - 1] != '\n') {
            fputc('\n', out);
        }
    }
}
