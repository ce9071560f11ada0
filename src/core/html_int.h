#ifndef TIDU_HTML_INT_H
#define TIDU_HTML_INT_H
/*
 * The pieces of tidu's printed pages, shared by the assessment report
 * (assess_html.c) and the pool report (pool_html.c): self-contained HTML
 * for A4, no script, no external resource. Internal to src/core.
 */
#include <stddef.h>

#include "tidu/buf.h"
#include "tidu/error.h"

/* The A4 page style: fonts with CJK, tables, status colours, charts. */
extern const char html_style[];

/* `len` bytes of `s` (or the C string `s`, NULL: nothing) as HTML text. */
void html_esc_n(tidu_buf *out, const char *s, size_t len);
void html_esc(tidu_buf *out, const char *s);

/* Formatted text (a translation with its arguments), escaped. */
void html_esc_printf(tidu_buf *out, const char *fmt, ...) TIDU_PRINTF(2, 3);

/* `s` cut to about `max` terminal columns, with "…" when cut. */
void html_esc_cut(tidu_buf *out, const char *s, size_t max);

/* <table class="CLASS"> with its header row of `heads` (NULL-ended), up to <tbody>. */
void html_table_head(tidu_buf *o, const char *cls, const char *const *heads);

/* "<tr><th>TH</th><td>" of a table of facts (the caller closes the row). */
void html_meta_row(tidu_buf *o, const char *th);

/* The doctype, head (title, html_style then `extra_style`) and <body>. */
void html_page_begin(tidu_buf *o, const char *title, const char *extra_style);

#endif
