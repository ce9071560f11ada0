/*
 * The printed report (include/tidu/assess_html.h): the facts of the text
 * output of `tidu assess`, laid out for one or two A4 pages. Built from the
 * assessment's structs and the pack's public accessors only. Everything
 * that is text (labels of the pack, the firm's fields, even translations)
 * goes through html_esc(): a firm name comes from a peer's change set as much as
 * from the officer's keyboard.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "tidu/assess_html.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/parse.h"
#include "tidu/utf8.h"

/* The chart's labels are cut at this many columns; the table has them whole. */
#define CHART_LABEL_COLUMNS 50

/* The chart, in SVG user units (the page is about 1000 wide). */
#define CHART_BAR_X 400
#define CHART_BAR_W 470
#define CHART_TEXT_X 885
#define CHART_ROW 22

#include "core/html_int.h"

static int is_pct(const tidu_assess_indicator *d)
{
	return d->unit && !strcmp(d->unit, "%");
}

/* A chart length in user units for `v` of `top`. */
static int scale(double v, double top)
{
	if (!isfinite(v) || v <= 0 || top <= 0)
		return 0;
	return (int)lround(fmin(v, top) / top * CHART_BAR_W);
}

static void put_head(tidu_buf *o, const tidu_assessment *a, const tidu_rec *firm,
		     const char *today)
{
	const char *name = tidu_view_rec_get(firm, "name");
	const char *uscc = tidu_view_rec_get(firm, "uscc");
	const char *district = tidu_view_rec_get(firm, "district");
	const char *dname = district ? tidu_dict_district_name(district) : NULL;

	tidu_buf b = TIDU_BUF_INIT;

	tidu_buf_printf(&b, "%s — %s", _("Assessment report"), name ? name : uscc);
	html_page_begin(o, b.ptr, "");
	tidu_buf_free(&b);
	tidu_buf_puts(o, "<header>\n<h1>");
	html_esc(o, _("Assessment report"));
	tidu_buf_puts(o, "</h1>\n<table class=\"meta\">\n");
	html_meta_row(o, _("Name"));
	html_esc(o, name ? name : "—");
	tidu_buf_puts(o, "</td></tr>\n");
	html_meta_row(o, _("USCC"));
	html_esc(o, uscc);
	tidu_buf_puts(o, "</td></tr>\n");
	if (district) {
		html_meta_row(o, _("District"));
		html_esc(o, dname ? dname : district);
		tidu_buf_puts(o, " <code>");
		html_esc(o, district);
		tidu_buf_puts(o, "</code></td></tr>\n");
	}
	html_meta_row(o, _("Rules"));
	html_esc(o, tidu_pack_title(a->pack));
	tidu_buf_puts(o, " <code>");
	html_esc(o, tidu_pack_id(a->pack));
	tidu_buf_puts(o, "</code> ");
	html_esc(o, _("version"));
	tidu_buf_printf(o, " %d</td></tr>\n", tidu_pack_version(a->pack));
	html_meta_row(o, _("Year"));
	if (a->year)
		tidu_buf_printf(o, "%d", a->year);
	else
		tidu_buf_puts(o, "—");
	if (a->year && a->year_default)
		html_esc(o, _(" (the latest with a revenue figure)"));
	tidu_buf_puts(o, "</td></tr>\n");
	html_meta_row(o, _("Report date"));
	html_esc(o, today);
	tidu_buf_puts(o, "</td></tr>\n</table>\n</header>\n");
}

/* "15 (+5)" after the value or condition that reaches the next band. */
static void put_next(tidu_buf *o, const tidu_assess_indicator *d)
{
	if (!d->next.has) {
		if (!d->known)
			html_esc(o, _("inputs missing"));
		return;
	}
	if (d->next.has_value) {
		html_esc(o, d->next.op);
		tidu_buf_puts(o, " ");
		tidu_assess_format(o, d->next.value);
		if (is_pct(d))
			tidu_buf_puts(o, "%");
	} else {
		tidu_buf_puts(o, "<code>");
		html_esc(o, d->next.condition);
		tidu_buf_puts(o, "</code>");
	}
	tidu_buf_puts(o, " → ");
	tidu_assess_format(o, d->next.points);
	tidu_buf_puts(o, " (+");
	tidu_assess_format(o, d->next.points - d->points);
	tidu_buf_puts(o, ")");
}

/* "10", or "0–10" when the points depend on a missing input. */
static void put_points(tidu_buf *o, const tidu_assess_indicator *d)
{
	tidu_assess_format(o, d->points);
	if (!d->known && d->points_max > d->points) {
		tidu_buf_puts(o, "–");
		tidu_assess_format(o, d->points_max);
	}
	tidu_buf_puts(o, "/");
	tidu_assess_format(o, d->max);
}

static void put_indicators(tidu_buf *o, const tidu_assess_tier *t)
{
	size_t i;

	html_table_head(o, "ind", (const char *const[]){_("Indicator"), _("Points"), _("Value"),
						   _("To gain points"), NULL});
	for (i = 0; i < t->nindicators; i++) {
		const tidu_assess_indicator *d = &t->indicators[i];

		tidu_buf_puts(o, "<tr><td>");
		html_esc(o, d->label);
		tidu_buf_puts(o, "</td><td class=\"n\">");
		put_points(o, d);
		tidu_buf_puts(o, "</td><td class=\"n\">");
		if (d->has_value) {
			tidu_assess_format(o, d->value);
			if (is_pct(d))
				tidu_buf_puts(o, "%");
		} else {
			tidu_buf_puts(o, "—");
		}
		tidu_buf_puts(o, "</td><td>");
		put_next(o, d);
		tidu_buf_puts(o, "</td></tr>\n");
	}
	tidu_buf_puts(o, "</tbody>\n</table>\n");
}

static void key_box(tidu_buf *o, const char *cls, const char *text)
{
	tidu_buf_printf(o, "<svg class=\"key\" width=\"9\" height=\"9\" viewBox=\"0 0 9 9\">"
			"<rect class=\"%s\" x=\"0.5\" y=\"0.5\" width=\"8\" height=\"8\"/></svg>", cls);
	html_esc(o, text);
}

/* Points against the maximum, one bar per indicator, on one scale. */
static void put_chart(tidu_buf *o, const tidu_assess_tier *t)
{
	double top = 0;
	size_t i;

	for (i = 0; i < t->nindicators; i++)
		if (isfinite(t->indicators[i].max) && t->indicators[i].max > top)
			top = t->indicators[i].max;
	if (!t->nindicators || top <= 0)
		return;
	tidu_buf_printf(o, "<svg class=\"chart\" "
			"viewBox=\"0 0 1000 %d\" role=\"img\" aria-label=\"",
			(int)t->nindicators * CHART_ROW + 4);
	html_esc(o, _("Points against the maximum"));
	tidu_buf_puts(o, "\">\n");
	for (i = 0; i < t->nindicators; i++) {
		const tidu_assess_indicator *d = &t->indicators[i];
		int y = (int)i * CHART_ROW + 2;

		tidu_buf_printf(o, "<text x=\"0\" y=\"%d\">", y + 15);
		html_esc_cut(o, d->label ? d->label : "", CHART_LABEL_COLUMNS);
		tidu_buf_printf(o, "</text>\n<rect class=\"max\" x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"14\"/>\n", CHART_BAR_X, y + 3, scale(d->max, top));
		if (!d->known && d->points_max > d->points)
			tidu_buf_printf(o, "<rect class=\"maybe\" x=\"%d\" y=\"%d\" width=\"%d\" "
					"height=\"14\"/>\n", CHART_BAR_X, y + 3,
					scale(d->points_max, top));
		tidu_buf_printf(o, "<rect class=\"pts\" x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"14\"/>\n<text x=\"%d\" y=\"%d\">", CHART_BAR_X, y + 3,
				scale(d->points, top), CHART_TEXT_X, y + 15);
		put_points(o, d);
		tidu_buf_puts(o, "</text>\n");
	}
	tidu_buf_puts(o, "</svg>\n<p class=\"small\">");
	key_box(o, "pts", _("Points"));
	key_box(o, "maybe", _("possible once the missing inputs are known"));
	key_box(o, "max", _("maximum"));
	tidu_buf_puts(o, "</p>\n");
}

static void put_score(tidu_buf *o, const tidu_assess_tier *t)
{
	tidu_buf b = TIDU_BUF_INIT;
	size_t i;

	tidu_buf_puts(o, "<p><b>");
	html_esc(o, _("Score"));
	tidu_buf_puts(o, "</b> ");
	tidu_assess_format(o, t->score);
	if (t->score_max > t->score) {
		tidu_buf_puts(o, "–");
		tidu_assess_format(o, t->score_max);
	}
	tidu_buf_puts(o, " / ");
	tidu_assess_format(o, t->max);
	tidu_assess_format(&b, t->pass_score);
	html_esc_printf(o, _(" (pass: %s)"), b.ptr);
	tidu_buf_puts(o, "</p>\n<p>");
	for (i = 0; i < t->ncategories; i++) {
		const tidu_assess_category *c = &t->categories[i];

		tidu_buf_puts(o, "<span class=\"cat\">");
		html_esc(o, c->label);
		tidu_buf_puts(o, " <b>");
		tidu_assess_format(o, c->points);
		tidu_buf_puts(o, "</b>/");
		tidu_assess_format(o, c->max);
		if (c->floor > 0) {
			tidu_buf_clear(&b);
			tidu_assess_format(&b, c->floor);
			tidu_buf_puts(o, " (");
			html_esc_printf(o, _("floor %s"), b.ptr);
			tidu_buf_puts(o, ")");
		}
		tidu_buf_puts(o, "</span>");
	}
	if (t->rules) {
		tidu_buf_puts(o, "<span class=\"small\">");
		html_esc(o, _("Table:"));
		tidu_buf_puts(o, " <code>");
		html_esc(o, t->rules);
		tidu_buf_puts(o, "</code></span>");
	}
	tidu_buf_puts(o, "</p>\n");
	tidu_buf_free(&b);
}

static void put_failed(tidu_buf *o, const tidu_assess_tier *t)
{
	size_t i;

	tidu_buf_puts(o, "<h3>");
	html_esc(o, _("Conditions not met"));
	tidu_buf_puts(o, "</h3>\n");
	html_table_head(o, "cond", (const char *const[]){_("Condition"), _("Value"), _("Required"),
						    NULL});
	for (i = 0; i < t->nfailed; i++) {
		const tidu_assess_failed *f = &t->failed[i];

		tidu_buf_puts(o, "<tr><td>");
		html_esc(o, f->label ? f->label : f->id);
		tidu_buf_puts(o, "</td><td class=\"n\">");
		if (f->has_value)
			tidu_assess_format(o, f->value);
		else if (f->text)
			html_esc(o, !strcmp(f->text, "no") ? _("no") : f->text);
		else
			tidu_buf_puts(o, "—");
		tidu_buf_puts(o, "</td><td class=\"n\">");
		if (f->op && f->has_threshold) {
			html_esc(o, f->op);
			tidu_buf_puts(o, " ");
			tidu_assess_format(o, f->threshold);
		}
		tidu_buf_puts(o, "</td></tr>\n");
	}
	tidu_buf_puts(o, "</tbody>\n</table>\n");
}

/* A missing input: its label in the dictionary, then its key. */
static void put_missing_item(tidu_buf *o, const char *key)
{
	const char *dot = strchr(key, '.');
	const tidu_field *f = NULL;
	size_t i;

	for (i = 0; key[i] >= '0' && key[i] <= '9'; i++)
		;
	if (dot && i > 0 && key + i == dot)
		f = tidu_dict_field(TIDU_ENTITY_FIRM_YEAR, dot + 1);
	else
		f = tidu_dict_field(TIDU_ENTITY_FIRM, key);
	tidu_buf_puts(o, "<li>");
	if (f) {
		html_esc(o, tidu_dict_label(f));
		tidu_buf_puts(o, " ");
	}
	tidu_buf_puts(o, "<code>");
	html_esc(o, key);
	tidu_buf_puts(o, "</code></li>\n");
}

static void heading(tidu_buf *o, const char *text, const char *list)
{
	tidu_buf_puts(o, "<h3>");
	html_esc(o, text);
	tidu_buf_printf(o, "</h3>\n<%s>\n", list);
}

static void put_tier(tidu_buf *o, const tidu_assess_tier *t)
{
	size_t i;

	tidu_buf_puts(o, "<section class=\"tier\">\n<h2>");
	html_esc_printf(o, _("Tier %d, %s"), t->tier, t->label ? t->label : "");
	tidu_buf_printf(o, "<span class=\"status %s\">", tidu_assess_status_name(t->status));
	html_esc(o, tidu_assess_status_label(t->status));
	tidu_buf_puts(o, "</span></h2>\n");
	if (t->scored) {
		put_score(o, t);
		put_indicators(o, t);
		put_chart(o, t);
	}
	if (t->nfailed)
		put_failed(o, t);
	if (t->ndirect) {
		heading(o, _("Direct conditions met"), "ul");
		for (i = 0; i < t->ndirect; i++) {
			tidu_buf_puts(o, "<li>");
			html_esc(o, t->direct_labels[i] ? t->direct_labels[i] : t->direct[i]);
			tidu_buf_puts(o, "</li>\n");
		}
		tidu_buf_puts(o, "</ul>\n");
	}
	if (t->nexempt) {
		heading(o, _("Conditions held by their exemption"), "ul");
		for (i = 0; i < t->nexempt; i++) {
			tidu_buf_puts(o, "<li><code>");
			html_esc(o, t->exempt[i]);
			tidu_buf_puts(o, "</code></li>\n");
		}
		tidu_buf_puts(o, "</ul>\n");
	}
	if (t->njudgement) {
		heading(o, _("For the officer to judge"), "ul");
		for (i = 0; i < t->njudgement; i++) {
			tidu_buf_puts(o, "<li>");
			html_esc(o, t->judgement[i].question);
			tidu_buf_puts(o, " <code>");
			html_esc(o, t->judgement[i].field);
			tidu_buf_puts(o, "</code></li>\n");
		}
		tidu_buf_puts(o, "</ul>\n");
	}
	if (t->nmissing) {
		heading(o, _("Missing inputs (never counted as zero)"), "ul class=\"cols\"");
		for (i = 0; i < t->nmissing; i++)
			put_missing_item(o, t->missing[i]);
		tidu_buf_puts(o, "</ul>\n");
	}
	tidu_buf_puts(o, "</section>\n");
}

static void put_notes(tidu_buf *o, const tidu_pack *p)
{
	size_t i, n = tidu_pack_note_count(p);

	if (!n)
		return;
	tidu_buf_puts(o, "<section class=\"notes\">\n");
	heading(o, _("Interpretations of the rules"), "ol");
	for (i = 0; i < n; i++) {
		const char *id = NULL, *text = NULL;

		tidu_pack_note(p, i, &id, &text);
		tidu_buf_puts(o, "<li>");
		html_esc(o, text ? text : id);
		tidu_buf_puts(o, "</li>\n");
	}
	tidu_buf_puts(o, "</ol>\n</section>\n");
}

int tidu_assess_html(const tidu_assessment *a, const tidu_rec *firm, const char *today,
		     tidu_buf *out)
{
	size_t i;

	if (!a || !a->pack || !firm || !today || !out)
		return tidu_error_set(TIDU_EINVAL, "%s", _("nothing to write a report of"));
	put_head(out, a, firm, today);
	tidu_buf_puts(out, "<main>\n");
	for (i = 0; i < a->ntiers; i++)
		put_tier(out, &a->tiers[i]);
	tidu_buf_puts(out, "</main>\n");
	put_notes(out, a->pack);
	tidu_buf_puts(out, "<footer class=\"small\">");
	html_esc_printf(out, _("Made with tidu %s on %s."), TIDU_VERSION, today);
	tidu_buf_puts(out, "</footer>\n</body>\n</html>\n");
	return 0;
}
