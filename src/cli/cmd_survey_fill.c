/*
 * tidu survey fill: one response filled on this terminal, one question at a
 * time (docs/surveys.md, "Filling on a terminal"). The questions come from
 * the answer engine's navigation (answers.h: relevance, groups, repeats),
 * every answer is checked as typed (tidu_survey_set) and the draft is saved
 * after each one (tidu_survey_save), so that a killed process loses at most
 * the line being typed. Lines are read from standard input, a terminal or a
 * pipe alike; end of input is ':quit'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_survey.h"
#include "tidu/alloc.h"
#include "tidu/parse.h"
#include "tidu/survey.h"

/* Longest line read: one answer, its spaces and a command around it. */
#define LINE_MAX_BYTES ((size_t)TIDU_ANSWERS_MAX_TEXT + 64)

/* Enclosing groups and repeats of a question, at most (the form's nesting bound, and one). */
#define MAX_NEST 65

cli_survey_fill_opts cli_survey_fill_defaults;

const cli_opt cli_survey_fill_optv[] = {
	CLI_STRING("version", "V", N_("fill this version of the form (default: the newest)"),
		   cli_survey_fill_defaults, version),
	CLI_STRING("resume", "ID", N_("continue the draft ID (its form and firm)"),
		   cli_survey_fill_defaults, resume),
	CLI_OPT_END,
};

int cli_survey_fill_check(cli_run *r)
{
	const cli_survey_fill_opts *o = r->opts;

	if (o->resume) {
		if (r->nargs || o->version)
			return cli_error(EXIT_USAGE, "%s",
				_("--resume ID takes no FORM, USCC or --version: the draft names them"));
		return EXIT_OK;
	}
	if (r->nargs != 2)
		return cli_error(EXIT_USAGE, "%s",
			_("give the form and the firm ('tidu survey fill FORM USCC'), or a draft to continue ('tidu survey fill --resume ID')"));
	return EXIT_OK;
}

/* What answering one stop leads to. */
typedef enum {
	ACT_NEXT,   /* the next stop */
	ACT_BACK,   /* the previous one */
	ACT_INTO,   /* into the repeat instance just added (fill.into) */
	ACT_QUIT,   /* stop, the draft kept */
} act;

typedef struct {
	tidu_survey *sv;
	tidu_answers *a;
	const tidu_form *f;
	const char *lang;
	tidu_buf line;
	tidu_answers_pos last;   /* the stop shown last, for the groups it entered */
	int have_last;
	tidu_answers_pos into;   /* ACT_INTO: the new instance (a begin repeat, n = depth + 1) */
} fill;

/*
 * Prints `prompt` and reads one line of standard input into fl->line,
 * without its newline (nor a CR before it). A line too long for any answer
 * (its rest dropped) or holding a NUL byte is refused and read again. 0, or
 * -1 at end of input or when standard output cannot be written (main then
 * says so): both end the fill as :quit does.
 */
static int read_line(fill *fl, const char *prompt)
{
	for (;;) {
		int c, over = 0;

		fputs(prompt, stdout);
		if (fflush(stdout) != 0 || ferror(stdout))
			return -1;
		tidu_buf_clear(&fl->line);
		while ((c = getchar()) != EOF && c != '\n') {
			if (fl->line.len < LINE_MAX_BYTES)
				tidu_buf_putc(&fl->line, (char)c);
			else
				over = 1;
		}
		if (c == EOF && !fl->line.len && !over) {
			/* Ends the prompt's line, so that what follows starts on its own. */
			putchar('\n');
			return -1;
		}
		if (fl->line.len && fl->line.ptr[fl->line.len - 1] == '\r')
			tidu_buf_truncate(&fl->line, fl->line.len - 1);
		if (!fl->line.ptr)
			tidu_buf_puts(&fl->line, "");
		if (over)
			cli_error(EXIT_USAGE, _("the line is longer than %zu bytes"), LINE_MAX_BYTES);
		else if (memchr(fl->line.ptr, '\0', fl->line.len))
			cli_error(EXIT_USAGE, "%s", _("the line holds a NUL byte"));
		else
			return 0;
	}
}

/* Prints an error line (stderr, as cli_error does) after what stdout holds. */
static void say_error(int error)
{
	fflush(stdout);
	cli_fail(error);
	tidu_error_clear();
}

/* A form text in the officer's language, or `fallback` when the form has none. */
static const char *text_of(const fill *fl, const tidu_form_text *t, const char *fallback)
{
	const char *s = tidu_form_text_get(fl->f, t, fl->lang);

	return *s ? s : fallback;
}

static const char *label_of(const fill *fl, size_t q)
{
	return text_of(fl, &fl->f->q[q].label, fl->f->q[q].name);
}

/* Has the line only spaces (or nothing)? */
static int blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* A y/N answer: 1 yes, 0 no (an empty line too), -1 neither. */
static int yes_no(const char *s)
{
	static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "是"};
	static const char *const no[] = {"n", "N", "no", "No", "NO", "否"};
	size_t len, i;

	s += strspn(s, " \t");
	for (len = strlen(s); len && (s[len - 1] == ' ' || s[len - 1] == '\t'); len--)
		;
	if (!len)
		return 0;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strlen(yes[i]) == len && !memcmp(s, yes[i], len))
			return 1;
		if (strlen(no[i]) == len && !memcmp(s, no[i], len))
			return 0;
	}
	return -1;
}

/* The choices offered at `p`, plus "other" for an or_other select whose list has none. */
typedef struct {
	const tidu_form_choice **v;
	size_t n;      /* offered by the list */
	int other;     /* and "other" as number n + 1 */
} offer;

static int list_has_other(const tidu_form_list *l)
{
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (!strcmp(l->choices[i].name, "other"))
			return 1;
	return 0;
}

static int offer_get(fill *fl, const tidu_answers_pos *p, offer *o)
{
	const tidu_form_question *fq = &fl->f->q[p->q];
	int error;

	memset(o, 0, sizeof(*o));
	if ((error = tidu_answers_choices(fl->a, p->q, &p->at, &o->v, &o->n)) < 0)
		return error;
	o->other = fq->or_other && !list_has_other(fq->list);
	return 0;
}

/* The label of choice `name` of `o` ("" when it is not offered). */
static const char *choice_label(const fill *fl, const offer *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (!strcmp(o->v[i]->name, name))
			return text_of(fl, &o->v[i]->label, name);
	if (o->other && !strcmp(name, "other"))
		return _("Other");
	return "";
}

/*
 * Appends the value `v` of `p` as the officer reads it: a select's choices
 * as "label [name]", an or_other's text after them.
 */
static void value_text(fill *fl, const tidu_answers_pos *p, const char *v, tidu_buf *out)
{
	const tidu_form_question *fq = &fl->f->q[p->q];
	const char *other;
	offer o;

	if ((fq->type != TIDU_Q_SELECT_ONE && fq->type != TIDU_Q_SELECT_MULTIPLE) ||
	    offer_get(fl, p, &o) < 0) {
		tidu_error_clear();
		tidu_buf_puts(out, cli_safe(v));
		return;
	}
	while (*v) {
		size_t len = strcspn(v, " ");
		char *name = tidu_strndup(v, len);
		const char *label = choice_label(fl, &o, name);

		if (out->len)
			tidu_buf_puts(out, ", ");
		if (*label)
			tidu_buf_printf(out, "%s [%s]", cli_safe(label), cli_safe(name));
		else
			tidu_buf_puts(out, cli_safe(name));
		free(name);
		v += len;
		v += strspn(v, " ");
	}
	if ((other = tidu_answers_get_other(fl->a, p->q, &p->at)))
		tidu_buf_printf(out, ": %s", cli_safe(other));
	free(o.v);
}

/* Prints the headings of the groups and repeat instances `p` enters. */
static void show_groups(fill *fl, const tidu_answers_pos *p)
{
	size_t chain[MAX_NEST], n = 0, g, k;

	for (g = fl->f->q[p->q].parent; g != TIDU_FORM_TOP && n < MAX_NEST;
	     g = fl->f->q[g].parent)
		chain[n++] = g;
	while (n--) {
		const tidu_form_question *gq = &fl->f->q[chain[n]];
		int repeat = gq->type == TIDU_Q_BEGIN_REPEAT;
		size_t d = tidu_answers_depth(fl->a, chain[n]) + (size_t)repeat;
		int entered = 0;

		/* Entered already when the last stop was inside it, in the same instance. */
		if (fl->have_last && fl->last.at.n >= d &&
		    !memcmp(fl->last.at.pos, p->at.pos, d * sizeof(*p->at.pos)))
			for (k = fl->f->q[fl->last.q].parent; k != TIDU_FORM_TOP;
			     k = fl->f->q[k].parent)
				if (k == chain[n]) {
					entered = 1;
					break;
				}
		if (entered)
			continue;
		if (repeat)
			printf("\n== %s (%zu) ==\n", cli_safe_ml(label_of(fl, chain[n])),
			       p->at.pos[d - 1]);
		else
			printf("\n== %s ==\n", cli_safe_ml(label_of(fl, chain[n])));
	}
}

/* What to type, by type (NULL: free text). */
static const char *type_hint(const tidu_form_question *fq)
{
	switch (fq->type) {
	case TIDU_Q_INTEGER:
		return _("a whole number");
	case TIDU_Q_DECIMAL:
		return _("a number");
	case TIDU_Q_DATE:
		return _("a date: YYYY-MM-DD");
	case TIDU_Q_TIME:
		return _("a time: HH:MM");
	case TIDU_Q_DATETIME:
		return _("a date and time: YYYY-MM-DD HH:MM");
	case TIDU_Q_SELECT_ONE:
		return _("type a number or a name");
	case TIDU_Q_SELECT_MULTIPLE:
		return _("type numbers or names, separated by spaces");
	case TIDU_Q_ACKNOWLEDGE:
		return _("type OK, or 1");
	case TIDU_Q_GEOPOINT:
		return _("latitude longitude [altitude [accuracy]]");
	case TIDU_Q_FILE:
		return _("the path of a file");
	case TIDU_Q_NOTE:
		return _("press Enter to go on");
	default:
		return NULL;
	}
}

/* Prints the question at `p`: its groups, label, hint, choices and current value. */
static int show_question(fill *fl, const tidu_answers_pos *p, int required, int read_only)
{
	const tidu_form_question *fq = &fl->f->q[p->q];
	const char *hint = tidu_form_text_get(fl->f, &fq->hint, fl->lang);
	const char *v = tidu_answers_get(fl->a, p->q, &p->at), *th = type_hint(fq);
	tidu_buf path = TIDU_BUF_INIT;
	size_t i;
	int error;

	show_groups(fl, p);
	/* One write per line: a line-buffered terminal never shows half of it. */
	if (fq->type != TIDU_Q_NOTE) {
		tidu_answers_path(fl->a, p->q, &p->at, &path);
		printf("\n%s  [%s]%s\n", cli_safe_ml(label_of(fl, p->q)),
		       cli_safe(tidu_buf_cstr(&path)), required ? " *" : "");
		tidu_buf_free(&path);
	} else {
		printf("\n%s\n", cli_safe_ml(label_of(fl, p->q)));
	}
	if (*hint)
		printf("  %s\n", cli_safe_ml(hint));
	if (fq->type == TIDU_Q_SELECT_ONE || fq->type == TIDU_Q_SELECT_MULTIPLE) {
		offer o;

		if ((error = offer_get(fl, p, &o)) < 0)
			return error;
		for (i = 0; i < o.n; i++)
			printf("  %zu) %s [%s]\n", i + 1,
			       cli_safe(text_of(fl, &o.v[i]->label, o.v[i]->name)),
			       cli_safe(o.v[i]->name));
		if (o.other)
			printf("  %zu) %s [other]\n", o.n + 1, _("Other"));
		free(o.v);
	}
	if (read_only)
		printf("  (%s)\n", _("read-only: press Enter to go on"));
	else if (th)
		printf("  (%s)\n", th);
	if (v && fq->type != TIDU_Q_NOTE) {
		tidu_buf b = TIDU_BUF_INIT;

		value_text(fl, p, v, &b);
		printf(read_only ? _("  now: %s\n") : _("  now: %s (Enter keeps it)\n"),
		       tidu_buf_cstr(&b));
		tidu_buf_free(&b);
	}
	return 0;
}

static void show_help(void)
{
	printf("%s", _("Type the answer and press Enter; an empty line keeps the current answer.\n"
		       "  :back   the previous question\n"
		       "  :skip   leave this question empty and go on (not when it is required)\n"
		       "  :quit   stop here; the draft is kept\n"
		       "  :help   this help\n"
		       "  ::      at the start of a line types one ':'\n"));
}

typedef enum { CMD_NONE, CMD_BACK, CMD_SKIP, CMD_QUIT, CMD_HELP, CMD_BAD } cmd;

/* The command the line is (CMD_NONE: an answer; "::" types one ':', dropped here). */
static cmd command_of(fill *fl)
{
	const char *s = tidu_buf_cstr(&fl->line);
	size_t len;

	s += strspn(s, " \t");
	if (s[0] != ':')
		return CMD_NONE;
	if (s[1] == ':') {
		/* The literal text from the second ':' on. */
		size_t at = (size_t)(s + 1 - fl->line.ptr);

		memmove(fl->line.ptr, fl->line.ptr + at, fl->line.len - at + 1);
		fl->line.len -= at;
		return CMD_NONE;
	}
	s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 4 && !memcmp(s, "back", 4))
		return CMD_BACK;
	if (len == 4 && !memcmp(s, "skip", 4))
		return CMD_SKIP;
	if (len == 4 && !memcmp(s, "quit", 4))
		return CMD_QUIT;
	if (len == 4 && !memcmp(s, "help", 4))
		return CMD_HELP;
	fflush(stdout);
	cli_error(EXIT_USAGE, _("unknown command ':%.*s' (:help lists them)"), (int)len, s);
	return CMD_BAD;
}

/* Turns each number of a select's answer into its choice's name, into `out`. */
static void select_names(const offer *o, const char *s, tidu_buf *out)
{
	while (*s) {
		size_t len;
		char *tok;
		int64_t k;

		/* An ideographic space (U+3000) separates too: Chinese input methods type it. */
		while (*s == ' ' || *s == '\t' || !strncmp(s, "\xe3\x80\x80", 3))
			s += *s == ' ' || *s == '\t' ? 1 : 3;
		if (!*s)
			break;
		for (len = 0; s[len] && s[len] != ' ' && s[len] != '\t' &&
			      strncmp(s + len, "\xe3\x80\x80", 3); len++)
			;
		tok = tidu_strndup(s, len);
		if (out->len)
			tidu_buf_putc(out, ' ');
		/* A number shown wins over a choice named like it: it is what the screen says. */
		if (tok[0] >= '0' && tok[0] <= '9' && tidu_parse_int64(tok, &k) == 0 && k >= 1 &&
		    (uint64_t)k <= o->n + (size_t)o->other)
			tidu_buf_puts(out, (size_t)k <= o->n ? o->v[k - 1]->name : "other");
		else
			tidu_buf_puts(out, tok);
		free(tok);
		s += len;
	}
	if (!out->ptr)
		tidu_buf_puts(out, "");
}

/* Is "other" one of the names of the select value `v`? */
static int has_other(const char *v)
{
	while (v && *v) {
		size_t len = strcspn(v, " ");

		if (len == 5 && !memcmp(v, "other", 5))
			return 1;
		v += len;
		v += strspn(v, " ");
	}
	return 0;
}

/* Keeps the draft; an error is said and returned. */
static int save(fill *fl)
{
	int error = tidu_survey_save(fl->sv);

	if (error < 0)
		tidu_error_prefix(_("saving the draft: "));
	return error;
}

/*
 * The companion text of an or_other select whose answer is "other": ACT_NEXT
 * once given (or kept), ACT_BACK to ask the select again, ACT_QUIT, or < 0.
 */
static int ask_other(fill *fl, const tidu_answers_pos *p)
{
	for (;;) {
		const char *cur = tidu_answers_get_other(fl->a, p->q, &p->at);
		int error;

		if (cur)
			printf(_("  now: %s (Enter keeps it)\n"), cli_safe(cur));
		if (read_line(fl, _("Other, please say what: ")) < 0)
			return ACT_QUIT;
		switch (command_of(fl)) {
		case CMD_BACK:
			return ACT_BACK;
		case CMD_QUIT:
			return ACT_QUIT;
		case CMD_HELP:
			show_help();
			continue;
		case CMD_SKIP:
			fflush(stdout);
			cli_error(EXIT_USAGE, "%s", _("say what 'other' is, or :back to choose again"));
			continue;
		case CMD_BAD:
			continue;
		case CMD_NONE:
			break;
		}
		if (blank(fl->line.ptr)) {
			if (cur)
				return ACT_NEXT;
			fflush(stdout);
			cli_error(EXIT_USAGE, "%s", _("say what 'other' is, or :back to choose again"));
			continue;
		}
		if ((error = tidu_answers_set_other(fl->a, p->q, &p->at, fl->line.ptr)) < 0) {
			say_error(error);
			continue;
		}
		if ((error = save(fl)) < 0)
			return error;
		return ACT_NEXT;
	}
}

/* The "add another?" stop of repeat `p` (n = its depth). */
static int ask_repeat(fill *fl, const tidu_answers_pos *p)
{
	size_t count = tidu_answers_count(fl->a, p->q, &p->at), pos;
	tidu_buf prompt = TIDU_BUF_INIT;
	const char *label;
	int rc = ACT_NEXT, error;

	show_groups(fl, p);
	label = cli_safe(label_of(fl, p->q)); /* after show_groups: cli_safe's ring */
	if (count)
		tidu_buf_printf(&prompt, _("\n'%s': %zu so far. Add another? [y/N] "), label, count);
	else
		tidu_buf_printf(&prompt, _("\n'%s': none yet. Add one? [y/N] "), label);
	for (;;) {
		int yn;

		if (read_line(fl, tidu_buf_cstr(&prompt)) < 0) {
			rc = ACT_QUIT;
			break;
		}
		switch (command_of(fl)) {
		case CMD_BACK:
			rc = ACT_BACK;
			goto done;
		case CMD_QUIT:
			rc = ACT_QUIT;
			goto done;
		case CMD_SKIP:
			rc = ACT_NEXT;
			goto done;
		case CMD_HELP:
			show_help();
			continue;
		case CMD_BAD:
			continue;
		case CMD_NONE:
			break;
		}
		if ((yn = yes_no(fl->line.ptr)) == 0) {
			rc = ACT_NEXT;
			break;
		}
		if (yn > 0) {
			if ((error = tidu_answers_add(fl->a, p->q, &p->at, &pos)) < 0) {
				say_error(error);
				continue;
			}
			if ((rc = save(fl)) < 0)
				break;
			fl->into = *p;
			fl->into.at.pos[fl->into.at.n++] = pos;
			rc = ACT_INTO;
			break;
		}
		fflush(stdout);
		cli_error(EXIT_USAGE, "%s", _("answer y or n"));
	}
done:
	tidu_buf_free(&prompt);
	return rc;
}

/* Asks the stop `p` until it is answered: an act, or < 0 on an error that ends the fill. */
static int ask(fill *fl, const tidu_answers_pos *p)
{
	const tidu_form_question *fq = &fl->f->q[p->q];
	int required, read_only, keep, rc, error;

	if (fq->type == TIDU_Q_BEGIN_REPEAT)
		return ask_repeat(fl, p);
	if ((required = tidu_answers_required(fl->a, p->q, &p->at)) < 0)
		return required;
	if ((read_only = tidu_answers_read_only(fl->a, p->q, &p->at)) < 0)
		return read_only;
	if (fq->type == TIDU_Q_NOTE)
		required = read_only = 0;
	if ((error = show_question(fl, p, required, read_only)) < 0)
		return error;
	for (;;) {
		const char *cur = tidu_answers_get(fl->a, p->q, &p->at);
		tidu_buf names = TIDU_BUF_INIT;
		const char *text;

		if (read_line(fl, "> ") < 0)
			return ACT_QUIT;
		switch (command_of(fl)) {
		case CMD_BACK:
			return ACT_BACK;
		case CMD_QUIT:
			return ACT_QUIT;
		case CMD_HELP:
			show_help();
			continue;
		case CMD_BAD:
			continue;
		case CMD_SKIP:
			if (required) {
				tidu_buf path = TIDU_BUF_INIT;

				tidu_answers_path(fl->a, p->q, &p->at, &path);
				fflush(stdout);
				cli_error(EXIT_USAGE, _("'%s' is required: it cannot be skipped"),
					  tidu_buf_cstr(&path));
				tidu_buf_free(&path);
				continue;
			}
			if (cur && !read_only && fq->type != TIDU_Q_NOTE) {
				if ((error = tidu_survey_set(fl->sv, p->q, &p->at, "")) < 0 ||
				    (fq->or_other &&
				     (error = tidu_answers_set_other(fl->a, p->q, &p->at, "")) < 0)) {
					say_error(error);
					continue;
				}
				if ((error = save(fl)) < 0)
					return error;
			}
			return ACT_NEXT;
		case CMD_NONE:
			break;
		}
		if (fq->type == TIDU_Q_NOTE || read_only)
			return ACT_NEXT;
		if (blank(fl->line.ptr) && !cur) {
			const char *msg = tidu_form_text_get(fl->f, &fq->required_message, fl->lang);
			tidu_buf path = TIDU_BUF_INIT;

			if (!required)
				return ACT_NEXT;
			tidu_answers_path(fl->a, p->q, &p->at, &path);
			fflush(stdout);
			if (*msg)
				cli_error(EXIT_USAGE, _("'%s': %s"), tidu_buf_cstr(&path), msg);
			else
				cli_error(EXIT_USAGE, _("'%s' is required"), tidu_buf_cstr(&path));
			tidu_buf_free(&path);
			continue;
		}
		/* An empty line keeps the value (and asks what "other" is, if still unsaid). */
		keep = blank(fl->line.ptr);
		if (!keep) {
			text = fl->line.ptr;
			if (fq->type == TIDU_Q_SELECT_ONE || fq->type == TIDU_Q_SELECT_MULTIPLE) {
				offer o;

				if ((error = offer_get(fl, p, &o)) < 0)
					return error;
				select_names(&o, text, &names);
				free(o.v);
				text = names.ptr;
			}
			error = tidu_survey_set(fl->sv, p->q, &p->at, text);
			tidu_buf_free(&names);
			if (error < 0) {
				say_error(error);
				continue;
			}
			if ((error = save(fl)) < 0)
				return error;
		}
		if (fq->or_other) {
			const char *other = tidu_answers_get_other(fl->a, p->q, &p->at);

			if (!has_other(tidu_answers_get(fl->a, p->q, &p->at))) {
				/* Not "other" any more: its text would be a stray answer. */
				if (other &&
				    ((error = tidu_answers_set_other(fl->a, p->q, &p->at, "")) < 0 ||
				     (error = save(fl)) < 0))
					return error;
			} else if (!list_has_other(fq->list) && (!keep || !other)) {
				if ((rc = ask_other(fl, p)) == ACT_BACK) {
					if ((error = show_question(fl, p, required, read_only)) < 0)
						return error;
					continue;
				}
				return rc;
			}
		}
		return ACT_NEXT;
	}
}

static void resume_hint(const fill *fl)
{
	const char *id = tidu_survey_id(fl->sv);

	printf(_("The draft is kept: resume with 'tidu survey fill --resume %s'\n"), id);
}

/* Every answered question and its value. */
static int show_summary(fill *fl)
{
	tidu_answers_pos p, cur;
	size_t answered = 0;
	int rc, first = 1;

	printf("\n%s\n", _("== Summary =="));
	for (;;) {
		const tidu_form_question *fq;
		const char *v;

		if ((rc = tidu_answers_next(fl->a, first ? NULL : &cur, &p)) < 0)
			return rc;
		if (rc == 0)
			break;
		first = 0;
		cur = p;
		fq = &fl->f->q[p.q];
		if (fq->type == TIDU_Q_NOTE || fq->type == TIDU_Q_BEGIN_REPEAT ||
		    !(v = tidu_answers_get(fl->a, p.q, &p.at)))
			continue;
		{
			tidu_buf path = TIDU_BUF_INIT, b = TIDU_BUF_INIT;

			tidu_answers_path(fl->a, p.q, &p.at, &path);
			value_text(fl, &p, v, &b);
			printf("  %s [%s]: %s\n", cli_safe(label_of(fl, p.q)),
			       cli_safe(tidu_buf_cstr(&path)), tidu_buf_cstr(&b));
			tidu_buf_free(&path);
			tidu_buf_free(&b);
		}
		answered++;
	}
	if (!answered)
		printf("  %s\n", _("(no answer yet)"));
	return 0;
}

/*
 * The end: the summary, then "Finalize?". EXIT_OK when finalised or kept
 * as a draft (*done = 1); *done = 0 with fl->into the question to go back
 * to (a failed check, or :back).
 */
static int finish(fill *fl, int *done)
{
	tidu_answers_pos bad;
	int rc, error;

	*done = 1;
	if ((error = show_summary(fl)) < 0)
		return cli_fail(error);
	for (;;) {
		int yn;

		if (read_line(fl, _("Finalize? [y/N] ")) < 0)
			break;
		switch (command_of(fl)) {
		case CMD_BACK:
			if ((rc = tidu_answers_prev(fl->a, NULL, &fl->into)) < 0)
				return cli_fail(rc);
			if (rc == 0)
				continue;
			*done = 0;
			return EXIT_OK;
		case CMD_HELP:
			show_help();
			continue;
		case CMD_BAD:
			continue;
		case CMD_QUIT:
		case CMD_SKIP:
			goto keep;
		case CMD_NONE:
			break;
		}
		if ((yn = yes_no(fl->line.ptr)) > 0) {
			bad.q = TIDU_FORM_TOP;
			if ((error = tidu_survey_finalize(fl->sv, &bad)) == 0) {
				printf(_("Finalized: response %s ('tidu survey show %s')\n"),
				       tidu_survey_id(fl->sv), tidu_survey_id(fl->sv));
				return EXIT_OK;
			}
			if (bad.q == TIDU_FORM_TOP) {
				/* Not an answer's fault: the store's (the draft is as it was). */
				rc = cli_fail(error);
				resume_hint(fl);
				return rc;
			}
			say_error(error);
			fl->into = bad;
			*done = 0;
			return EXIT_OK;
		}
		if (yn == 0)
			break;
		fflush(stdout);
		cli_error(EXIT_USAGE, "%s", _("answer y or n"));
	}
keep:
	resume_hint(fl);
	return EXIT_OK;
}

/* The loop over the stops from `start` (NULL: the summary at once). */
static int run_fill(fill *fl, const tidu_answers_pos *start)
{
	tidu_answers_pos cur, nxt;
	int have = start != NULL, rc, done;

	if (start)
		cur = *start;
	for (;;) {
		if (!have) {
			if ((rc = finish(fl, &done)) != EXIT_OK || done)
				return rc;
			cur = fl->into;
			fl->have_last = 0;
			have = 1;
			continue;
		}
		if ((rc = ask(fl, &cur)) < 0) {
			rc = cli_fail(rc);
			resume_hint(fl);
			return rc;
		}
		fl->last = cur;
		fl->have_last = 1;
		switch ((act)rc) {
		case ACT_QUIT:
			resume_hint(fl);
			return EXIT_OK;
		case ACT_INTO:
			if ((rc = tidu_answers_next(fl->a, &fl->into, &nxt)) < 0)
				return cli_fail(rc);
			break;
		case ACT_NEXT:
			if ((rc = tidu_answers_next(fl->a, &cur, &nxt)) < 0)
				return cli_fail(rc);
			break;
		case ACT_BACK:
			if ((rc = tidu_answers_prev(fl->a, &cur, &nxt)) < 0)
				return cli_fail(rc);
			if (rc == 0) {
				fflush(stdout);
				cli_error(EXIT_USAGE, "%s", _("this is the first question"));
				nxt = cur;
				rc = 1;
				/* Shown again from its groups. */
				fl->have_last = 0;
			}
			break;
		}
		have = rc > 0;
		if (have)
			cur = nxt;
	}
}

/* tidu survey fill FORM USCC [--version V] | tidu survey fill --resume ID */
int cli_survey_fill(cli_run *r)
{
	const cli_survey_fill_opts *o = r->opts;
	const char *lang = cli_survey_lang();
	tidu_survey_info info;
	tidu_answers_pos start;
	fill fl;
	int code, error, rc;

	memset(&fl, 0, sizeof(fl));
	memset(&info, 0, sizeof(info));
	fl.lang = lang;
	if (o->resume)
		error = tidu_survey_resume(r->store, o->resume, lang, &fl.sv);
	else
		error = tidu_survey_begin(r->store, r->args[0], o->version, r->args[1], lang,
					  &fl.sv);
	/* Kept at once, so that the id shown can be resumed whatever happens next. */
	if (error == 0 && !o->resume)
		error = save(&fl);
	if (error == 0)
		error = tidu_survey_get(r->store, tidu_survey_id(fl.sv), &info, NULL);
	if (error < 0) {
		code = cli_fail(error);
		goto done;
	}
	fl.a = tidu_survey_answers(fl.sv);
	fl.f = tidu_survey_form(fl.sv);
	printf("%s (%s %s)\n", cli_safe(text_of(&fl, &fl.f->title, fl.f->id)),
	       cli_safe(fl.f->id), cli_safe(fl.f->version));
	printf(_("Firm: %s %s\n"), cli_safe(info.uscc), cli_safe(info.firm_name));
	printf(_("Draft %s: resume with 'tidu survey fill --resume %s'\n"),
	       tidu_survey_id(fl.sv), tidu_survey_id(fl.sv));
	printf("%s\n", _("Type :help for the commands."));
	if (o->resume)
		rc = tidu_answers_first_unanswered(fl.a, &start);
	else
		rc = tidu_answers_next(fl.a, NULL, &start);
	if (rc < 0) {
		code = cli_fail(rc);
		goto done;
	}
	code = run_fill(&fl, rc ? &start : NULL);
done:
	tidu_survey_info_clear(&info);
	tidu_survey_free(fl.sv);
	tidu_buf_free(&fl.line);
	return code;
}
