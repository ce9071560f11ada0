/*
 * The pieces of tidu's printed pages (src/core/html_int.h): the A4 style,
 * HTML escaping (every text from the store, a peer or a translation goes
 * through it, controls and invalid bytes shown as escapes first), tables
 * and the page's head. Used by the assessment report and the pool report.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "core/html_int.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"

const char html_style[] =
	"@page { size: A4; margin: 15mm }\n"
	"html { font-family: \"Noto Sans CJK SC\", \"Noto Sans SC\", \"Microsoft YaHei\", "
	"\"PingFang SC\", sans-serif;\n"
	"  font-size: 9.5pt; line-height: 1.4; color: #111;\n"
	"  -webkit-print-color-adjust: exact; print-color-adjust: exact }\n"
	"body { margin: 0 }\n"
	"@media screen { body { max-width: 180mm; margin: 10mm auto; padding: 0 5mm } }\n"
	"h1 { font-size: 15pt; margin: 0 0 2mm }\n"
	"h2 { font-size: 11.5pt; margin: 5mm 0 1.5mm; padding-bottom: 0.8mm;\n"
	"  border-bottom: 0.4mm solid #333; break-after: avoid }\n"
	"h3 { font-size: 9.5pt; margin: 2.5mm 0 1mm; break-after: avoid }\n"
	"p { margin: 1mm 0 }\n"
	"table { border-collapse: collapse; width: 100% }\n"
	"th, td { border: 0.2mm solid #999; padding: 0.5mm 1.5mm; text-align: left;\n"
	"  vertical-align: top }\n"
	"th { background: #eee }\n"
	"tr, li { break-inside: avoid }\n"
	"td.n { text-align: right; white-space: nowrap }\n"
	"table.meta th { width: 32mm }\n"
	".status { font-weight: bold; border: 0.3mm solid; padding: 0 1.5mm; margin-left: 2mm }\n"
	".pass { color: #1a7f37 } .fail { color: #b42318 }\n"
	".undecided, .incomplete { color: #9a6700 }\n"
	".cat { margin-right: 4mm; white-space: nowrap }\n"
	"ul, ol { margin: 0; padding-left: 5mm }\n"
	"ul.cols { columns: 2; column-gap: 8mm }\n"
	"code { font-family: monospace; font-size: 0.9em; color: #444 }\n"
	".small, .notes { font-size: 7.5pt; color: #444 }\n"
	"svg.chart { display: block; width: 100%; height: auto; margin-top: 1.5mm;\n"
	"  break-inside: avoid }\n"
	"svg.chart text { font-size: 15px; fill: #111 }\n"
	".pts { fill: #2f6fb0 } .maybe { fill: #a9c4e4 }\n"
	".max { fill: #f2f2f2; stroke: #999; stroke-width: 1 }\n"
	"svg.key { vertical-align: middle; margin: 0 1mm 0 3mm }\n"
	"footer { margin-top: 4mm; border-top: 0.2mm solid #999; padding-top: 1mm }\n";

/* `len` bytes of `s` as HTML text: controls and invalid bytes as escapes first. */
void html_esc_n(tidu_buf *out, const char *s, size_t len)
{
	tidu_buf safe = TIDU_BUF_INIT;
	size_t i;

	tidu_utf8_safe(&safe, s, len, 0);
	for (i = 0; i < safe.len; i++) {
		switch (safe.ptr[i]) {
		case '&': tidu_buf_puts(out, "&amp;"); break;
		case '<': tidu_buf_puts(out, "&lt;"); break;
		case '>': tidu_buf_puts(out, "&gt;"); break;
		case '"': tidu_buf_puts(out, "&quot;"); break;
		case '\'': tidu_buf_puts(out, "&#39;"); break;
		default: tidu_buf_putc(out, safe.ptr[i]); break;
		}
	}
	tidu_buf_free(&safe);
}

void html_esc(tidu_buf *out, const char *s)
{
	if (s)
		html_esc_n(out, s, strlen(s));
}

/* <table class="CLASS"> with its header row of `heads` (NULL-ended), up to <tbody>. */
void html_table_head(tidu_buf *o, const char *cls, const char *const *heads)
{
	tidu_buf_printf(o, "<table class=\"%s\">\n<thead><tr>", cls);
	for (; *heads; heads++) {
		tidu_buf_puts(o, "<th>");
		html_esc(o, *heads);
		tidu_buf_puts(o, "</th>");
	}
	tidu_buf_puts(o, "</tr></thead>\n<tbody>\n");
}

/* Formatted text (a translation with its arguments), escaped. */
void html_esc_printf(tidu_buf *out, const char *fmt, ...)
{
	tidu_buf b = TIDU_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	tidu_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	html_esc_n(out, b.ptr ? b.ptr : "", b.len);
	tidu_buf_free(&b);
}

/* `s` cut to about `max` terminal columns, with "…" when cut. */
void html_esc_cut(tidu_buf *out, const char *s, size_t max)
{
	size_t len = strlen(s), i = 0, cols = 0;

	if (tidu_utf8_columns(s) <= max) {
		html_esc_n(out, s, len);
		return;
	}
	while (i < len) {
		uint32_t cp;
		int n = tidu_utf8_decode(s + i, len - i, &cp);
		size_t c = n ? (size_t)tidu_utf8_cp_columns(cp) : 1;

		if (cols + c >= max)
			break;
		cols += c;
		i += n ? (size_t)n : 1;
	}
	html_esc_n(out, s, i);
	tidu_buf_puts(out, "…");
}

void html_meta_row(tidu_buf *o, const char *th)
{
	tidu_buf_puts(o, "<tr><th>");
	html_esc(o, th);
	tidu_buf_puts(o, "</th><td>");
}

void html_page_begin(tidu_buf *o, const char *title, const char *extra_style)
{
	tidu_buf_printf(o, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
			tidu_i18n_is_zh() ? "zh-CN" : "en");
	tidu_buf_puts(o, "<meta name=\"generator\" content=\"tidu " TIDU_VERSION "\">\n<title>");
	html_esc(o, title);
	tidu_buf_printf(o, "</title>\n<style>\n%s%s</style>\n</head>\n<body>\n", html_style,
			extra_style);
}
