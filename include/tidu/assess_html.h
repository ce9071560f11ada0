#ifndef TIDU_ASSESS_HTML_H
#define TIDU_ASSESS_HTML_H
/*
 * The printed report of one firm's assessment (`tidu assess USCC --html
 * FILE`, docs/assess.md "The printed report"): one self-contained HTML page
 * for A4 portrait, no script, no external resource, no web font, so that an
 * officer can hand it over or print it from any browser, offline.
 */
#include "tidu/assess.h"
#include "tidu/buf.h"
#include "tidu/view.h"

/*
 * Appends to `out` the report of assessment `a` of the stored firm `firm`
 * (its name, USCC and district are shown), dated `today` (YYYY-MM-DD).
 * Texts are in the current language, as the engine's labels are. Every text
 * that comes from the store or the pack is HTML-escaped (and its control
 * characters and invalid bytes shown as escapes, as on a terminal). Builds
 * text only: writes no file. 0, or TIDU_EINVAL for a NULL argument.
 */
int tidu_assess_html(const tidu_assessment *a, const tidu_rec *firm, const char *today,
		     tidu_buf *out);

#endif
