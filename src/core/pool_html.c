/*
 * The pool report (`tidu pool report`, docs/pool.md): one self-contained
 * HTML page for A4 (inline CSS and SVG, no script, no network): targets
 * against recognitions per tier, each district's completion as bars, the
 * reserve-list funnel, visits per month, overdue follow-ups and the top
 * deduction items across the pool. Every text goes through html_esc().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/html_int.h"
#include "core/pool_int.h"
#include "tidu/alloc.h"
#include "tidu/dict.h"
#include "tidu/error.h"
#include "tidu/i18n.h"
#include "tidu/pool.h"

/* Bars in SVG user units (the page is about 1000 wide). */
#define BAR_X 230
#define BAR_W 600
#define BAR_ROW 22

static const char pool_style[] =
	".bar { fill: #2f6fb0 } .bar2 { fill: #a9c4e4 } .track { fill: #f2f2f2; stroke: #999;\n"
	"  stroke-width: 1 }\n"
	"section { break-inside: avoid-page }\n";

static const char *tier_name(int tier)
{
	switch (tier) {
	case 1:
		return _("innovative SME");
	case 2:
		return _("provincial SRDI SME");
	default:
		return _("little giant");
	}
}

static const char *district_label(const char *code)
{
	const char *n = code && *code ? tidu_dict_district_name(code) : NULL;

	return n ? n : code && *code ? code : _("city");
}

static void num_cell(tidu_buf *o, int64_t v)
{
	if (v < 0)
		tidu_buf_puts(o, "<td class=\"n\">—</td>");
	else
		tidu_buf_printf(o, "<td class=\"n\">%lld</td>", (long long)v);
}

static void pct_cell(tidu_buf *o, double c)
{
	if (c < 0)
		tidu_buf_puts(o, "<td class=\"n\">—</td>");
	else
		tidu_buf_printf(o, "<td class=\"n\">%.1f%%</td>", c);
}

/* One labelled horizontal bar of `v` of `top` (a track behind it), with its text. */
static void bar(tidu_buf *o, int row, const char *label, double v, double top, const char *text,
		const char *cls)
{
	int w = top > 0 && v > 0 ? (int)(BAR_W * (v > top ? 1.0 : v / top) + 0.5) : 0;
	int y = row * BAR_ROW;

	tidu_buf_printf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", BAR_X - 8, y + 15);
	html_esc_cut(o, label, 28);
	tidu_buf_printf(o, "</text><rect class=\"track\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\"/>",
			BAR_X, y + 2, BAR_W);
	if (w)
		tidu_buf_printf(o, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\"/>",
				cls, BAR_X, y + 2, w);
	tidu_buf_printf(o, "<text x=\"%d\" y=\"%d\">", BAR_X + BAR_W + 8, y + 15);
	html_esc(o, text);
	tidu_buf_puts(o, "</text>\n");
}

static void svg_begin(tidu_buf *o, int rows, const char *title)
{
	tidu_buf_printf(o, "<svg class=\"chart\" viewBox=\"0 0 1000 %d\" role=\"img\" aria-label=\"",
			rows * BAR_ROW + 6);
	html_esc(o, title);
	tidu_buf_puts(o, "\">\n");
}

/* The targets table, then per tier the districts' completion bars. */
static void put_targets(tidu_buf *o, const tidu_pool_tier_progress t[3], const char *district)
{
	const char *heads[] = {_("Tier"), _("Target"), _("Recognised"), _("Completion"),
			       _("Reserve"), _("Passing"), NULL};
	size_t i;
	int k;

	tidu_buf_puts(o, "<section>\n<h2>");
	html_esc(o, _("Targets and progress"));
	tidu_buf_puts(o, "</h2>\n");
	html_table_head(o, "targets", heads);
	for (k = 0; k < 3; k++) {
		const tidu_pool_progress *p = &t[k].total;

		for (i = 0; district && i < t[k].ndistricts; i++)
			if (!strcmp(t[k].districts[i].district, district))
				p = &t[k].districts[i];
		tidu_buf_puts(o, "<tr><td>");
		html_esc_printf(o, _("Tier %d %s"), t[k].tier, tier_name(t[k].tier));
		tidu_buf_puts(o, "</td>");
		num_cell(o, p->target);
		num_cell(o, p->recognised);
		pct_cell(o, tidu_pool_completion(p));
		num_cell(o, p->reserve);
		num_cell(o, p->passing);
		tidu_buf_puts(o, "</tr>\n");
	}
	tidu_buf_puts(o, "</tbody>\n</table>\n");
	for (k = 0; k < 3; k++) {
		int rows = 0;

		if (district || t[k].ndistricts < 2)
			continue; /* one district: the table says it */
		tidu_buf_puts(o, "<h3>");
		html_esc_printf(o, _("Tier %d %s: completion by district"), t[k].tier,
				tier_name(t[k].tier));
		tidu_buf_puts(o, "</h3>\n");
		svg_begin(o, (int)t[k].ndistricts, _("completion by district"));
		for (i = 0; i < t[k].ndistricts; i++) {
			const tidu_pool_progress *p = &t[k].districts[i];
			double c = tidu_pool_completion(p);
			char text[64];

			if (c >= 0)
				snprintf(text, sizeof(text), "%.1f%% (%lld/%lld)", c,
					 (long long)p->recognised, (long long)p->target);
			else
				snprintf(text, sizeof(text), "— (%lld)", (long long)p->recognised);
			bar(o, rows++, district_label(p->district), c < 0 ? 0 : c, 100, text, "bar");
		}
		tidu_buf_puts(o, "</svg>\n");
	}
	tidu_buf_puts(o, "</section>\n");
}

/* The funnel of each list: on the list, assessed, passing; then the year's recognitions. */
static void put_funnel(tidu_buf *o, tidu_pool_entry *const *lists, const size_t *n,
		       const tidu_pool_tier_progress t[3], const char *district)
{
	size_t i;
	int k;

	tidu_buf_puts(o, "<section>\n<h2>");
	html_esc(o, _("The reserve lists"));
	tidu_buf_puts(o, "</h2>\n");
	for (k = 2; k >= 0; k--) {
		const tidu_pool_progress *p = &t[2 - k].total;
		size_t assessed = 0, passing = 0;
		double top;
		char text[32];

		for (i = 0; district && i < t[2 - k].ndistricts; i++)
			if (!strcmp(t[2 - k].districts[i].district, district))
				p = &t[2 - k].districts[i];
		for (i = 0; i < n[k]; i++) {
			assessed += lists[k][i].status != TIDU_ASSESS_INCOMPLETE;
			passing += lists[k][i].status == TIDU_ASSESS_PASS;
		}
		top = (double)(n[k] > (size_t)p->recognised ? n[k] : (size_t)p->recognised);
		tidu_buf_puts(o, "<h3>");
		html_esc_printf(o, _("Tier %d %s"), k + 1, tier_name(k + 1));
		tidu_buf_puts(o, "</h3>\n");
		svg_begin(o, 4, _("the reserve list funnel"));
		snprintf(text, sizeof(text), "%zu", n[k]);
		bar(o, 0, _("on the list"), (double)n[k], top, text, "bar2");
		snprintf(text, sizeof(text), "%zu", assessed);
		bar(o, 1, _("assessed (all inputs)"), (double)assessed, top, text, "bar2");
		snprintf(text, sizeof(text), "%zu", passing);
		bar(o, 2, _("passing today"), (double)passing, top, text, "bar");
		snprintf(text, sizeof(text), "%lld", (long long)p->recognised);
		bar(o, 3, _("recognised this year (all firms)"), (double)p->recognised, top, text, "bar");
		tidu_buf_puts(o, "</svg>\n");
	}
	tidu_buf_puts(o, "</section>\n");
}

typedef struct {
	const char *label;
	size_t firms;
	double points;
} item_count;

static int item_cmp(const void *a, const void *b)
{
	const item_count *x = a, *y = b;

	if (x->firms != y->firms)
		return x->firms > y->firms ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* The indicators that cost the firms of the lists the most points. */
static void put_deductions(tidu_buf *o, tidu_pool_entry *const *lists, const size_t *n)
{
	const char *heads[] = {_("Top deduction"), _("Firms"), _("Points lost (average)"), NULL};
	item_count *v = NULL;
	size_t nv = 0, i, j;
	int k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < n[k]; i++) {
			const tidu_pool_entry *e = &lists[k][i];

			if (!e->top_item)
				continue;
			for (j = 0; j < nv && strcmp(v[j].label, e->top_item); j++)
				;
			if (j == nv) {
				v = tidu_reallocarray(v, nv + 1, sizeof(*v));
				v[nv].label = e->top_item;
				v[nv].firms = 0;
				v[nv++].points = 0;
			}
			v[j].firms++;
			v[j].points += e->top_lost;
		}
	tidu_buf_puts(o, "<section>\n<h2>");
	html_esc(o, _("Where the pool loses points"));
	tidu_buf_puts(o, "</h2>\n<p class=\"small\">");
	html_esc(o, _("Each firm of the lists counted once, under the indicator that costs it the most points: what the city's services should target."));
	tidu_buf_puts(o, "</p>\n");
	if (!nv) {
		tidu_buf_puts(o, "<p>");
		html_esc(o, _("No deduction yet (no firm of the lists has been scored)."));
		tidu_buf_puts(o, "</p>\n</section>\n");
		return;
	}
	qsort(v, nv, sizeof(*v), item_cmp);
	html_table_head(o, "deductions", heads);
	for (i = 0; i < nv && i < 15; i++) {
		tidu_buf_puts(o, "<tr><td>");
		html_esc(o, v[i].label);
		tidu_buf_printf(o, "</td><td class=\"n\">%zu</td><td class=\"n\">%.1f</td></tr>\n",
				v[i].firms, v[i].points / (double)v[i].firms);
	}
	tidu_buf_puts(o, "</tbody>\n</table>\n</section>\n");
	free(v);
}

static void put_visits(tidu_buf *o, const int64_t months[12], int year)
{
	int64_t top = 0;
	int m;

	for (m = 0; m < 12; m++)
		if (months[m] > top)
			top = months[m];
	tidu_buf_puts(o, "<section>\n<h2>");
	html_esc_printf(o, _("Visits per month, %d"), year);
	tidu_buf_puts(o, "</h2>\n");
	svg_begin(o, 12, _("visits per month"));
	for (m = 0; m < 12; m++) {
		char label[16], text[24];

		snprintf(label, sizeof(label), "%d-%02d", year, m + 1);
		snprintf(text, sizeof(text), "%lld", (long long)months[m]);
		bar(o, m, label, (double)months[m], (double)top, text, "bar");
	}
	tidu_buf_puts(o, "</svg>\n</section>\n");
}

static void put_overdue(tidu_buf *o, const tidu_pool_due *d, size_t n)
{
	const char *heads[] = {_("Due"), _("Officer"), _("USCC"), _("Name"), NULL};
	size_t i, shown = 0;

	tidu_buf_puts(o, "<section>\n<h2>");
	html_esc(o, _("Overdue follow-ups"));
	tidu_buf_puts(o, "</h2>\n");
	if (!n) {
		tidu_buf_puts(o, "<p>");
		html_esc(o, _("No follow-up is overdue."));
		tidu_buf_puts(o, "</p>\n</section>\n");
		return;
	}
	html_table_head(o, "overdue", heads);
	for (i = 0; i < n && shown < 40; i++, shown++) {
		tidu_buf_puts(o, "<tr><td>");
		html_esc(o, d[i].due);
		tidu_buf_puts(o, "</td><td>");
		html_esc(o, d[i].officer && *d[i].officer ? d[i].officer : "—");
		tidu_buf_puts(o, "</td><td>");
		html_esc(o, d[i].uscc);
		tidu_buf_puts(o, "</td><td>");
		html_esc(o, d[i].name ? d[i].name : "");
		tidu_buf_puts(o, "</td></tr>\n");
	}
	tidu_buf_puts(o, "</tbody>\n</table>\n");
	if (n > shown) {
		tidu_buf_puts(o, "<p class=\"small\">");
		html_esc_printf(o, _("and %zu more: 'tidu pool due --overdue'"), n - shown);
		tidu_buf_puts(o, "</p>\n");
	}
	tidu_buf_puts(o, "</section>\n");
}

/* Keeps the entries of `district` (in their order); frees the others. */
static void keep_district(tidu_pool_entry *v, size_t *n, const char *district)
{
	size_t i, j = 0;

	for (i = 0; i < *n; i++) {
		if (v[i].district && !strcmp(v[i].district, district)) {
			v[j++] = v[i];
			continue;
		}
		pool_entry_clear(&v[i]);
	}
	*n = j;
}

int tidu_pool_report(tidu_store *s, int year, const char *district, const char *today,
		     tidu_buf *out)
{
	tidu_pool_tier_progress t[3];
	tidu_pool_entry *lists[3] = {NULL, NULL, NULL};
	size_t n[3] = {0, 0, 0}, ndue = 0;
	tidu_pool_due *due = NULL;
	tidu_pool_due_filter df = {1, district, NULL};
	int64_t months[12];
	tidu_buf title = TIDU_BUF_INIT;
	int k, error = 0;

	if (district && (!tidu_dict_district_name(district) || tidu_dict_is_city(district)))
		return tidu_error_set(TIDU_EINVAL, _("unknown district '%s'"), district);
	memset(t, 0, sizeof(t));
	/* the lists are assessed once: for the targets' passing, then the district's */
	{
		tidu_pool_filter f = {0, NULL, NULL};

		error = pool_lists(s, &f, 0, lists, n); /* the page shows no firm's visits */
	}
	if (!error)
		error = pool_targets_lists(s, year, lists, n, t);
	for (k = 0; k < 3 && !error && district; k++)
		keep_district(lists[k], &n[k], district);
	if (!error)
		error = tidu_pool_due_list(s, &df, &due, &ndue);
	if (!error)
		error = tidu_pool_visit_months(s, year, district, months);
	if (error)
		goto done;
	tidu_buf_printf(&title, "%s — %d — %s", _("Reserve pool report"), year,
			district_label(district ? district
				       : strcmp(tidu_store_role(s), "city") ? tidu_store_district(s) : ""));
	html_page_begin(out, title.ptr, pool_style);
	tidu_buf_puts(out, "<header>\n<h1>");
	html_esc(out, title.ptr);
	tidu_buf_puts(out, "</h1>\n<table class=\"meta\">\n");
	html_meta_row(out, _("Year"));
	tidu_buf_printf(out, "%d</td></tr>\n", year);
	html_meta_row(out, _("Report date"));
	html_esc(out, today);
	tidu_buf_puts(out, "</td></tr>\n</table>\n</header>\n<main>\n");
	put_targets(out, t, district);
	put_funnel(out, lists, n, t, district);
	put_deductions(out, lists, n);
	put_visits(out, months, year);
	put_overdue(out, due, ndue);
	tidu_buf_puts(out, "</main>\n<footer class=\"small\">");
	html_esc_printf(out, _("Made with tidu %s on %s."), TIDU_VERSION, today);
	tidu_buf_puts(out, "</footer>\n</body>\n</html>\n");
done:
	tidu_buf_free(&title);
	tidu_pool_targets_free(t);
	for (k = 0; k < 3; k++)
		tidu_pool_list_free(lists[k], n[k]);
	tidu_pool_due_free(due, ndue);
	return error;
}
