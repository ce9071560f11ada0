/*
 * .xlsx workbooks (xlsx.h): the zip through libzip, the XML through expat.
 *
 * What is read, in order:
 *   xl/workbook.xml             the sheets: name and relationship id (r:id)
 *   xl/_rels/workbook.xml.rels  relationship id -> part name (Target)
 *   the shared strings          the relationship of type .../sharedStrings,
 *                               else xl/sharedStrings.xml if there is one
 *   a sheet's part              when tidu_xlsx_sheet_read asks for it
 * Parts are looked up by name only: the zip is never extracted, so names
 * such as "../x" in it do no harm, and a relationship's target must stay
 * inside xl/ and name a part that exists.
 *
 * Every element is matched by its local name, whatever its namespace or
 * prefix ("x:c" from other writers is "c"): the parser splits qualified
 * names at NS_SEP. Any DOCTYPE stops the parser: without a DTD there is no
 * entity to expand but the five predefined ones.
 *
 * Bounds (tidu_xlsx_limits): a part's declared size against max_part and
 * what is left of max_total, its declared ratio (above RATIO_FLOOR bytes),
 * then the bytes actually inflated, which may never pass the declared size;
 * the number of cells and shared strings and the bytes of one text while
 * parsing. A failing handler stops expat (stop()), whose error then carries
 * our reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <zip.h>

#include "tidu/alloc.h"
#include "tidu/buf.h"
#include "tidu/error.h"
#include "tidu/file.h"
#include "tidu/i18n.h"
#include "tidu/utf8.h"
#include "tidu/xlsx.h"

const tidu_xlsx_limits tidu_xlsx_default_limits = {
	.max_file = (size_t)20 << 20,
	.max_part = (size_t)64 << 20,
	.max_total = (size_t)128 << 20,
	.max_ratio = 200,
	.max_cells = 1000000,
	.max_strings = 1000000,
	.max_cell_text = (size_t)32 << 10,
};

#define MAX_ROWS 1048576 /* Excel's grid, A1..XFD1048576 */
#define MAX_COLS 16384
#define MAX_SHEETS 4096
/* Small parts are not held to max_ratio: XML of empty cells packs well. */
#define RATIO_FLOOR ((size_t)1 << 20)
#define NS_SEP '\x01' /* cannot occur in XML 1.0 */
#define EXCERPT 40    /* bytes of file text quoted in a message */
#define CHUNK 65536

static const char WORKBOOK[] = "xl/workbook.xml";
static const char WORKBOOK_RELS[] = "xl/_rels/workbook.xml.rels";
static const char SST_DEFAULT[] = "xl/sharedStrings.xml";

/* The shared strings, shared by the workbook and the sheets read from it. */
typedef struct {
	size_t refs;
	tidu_buf text; /* the strings one after the other, each NUL-terminated */
	size_t *off;   /* where string i starts in text */
	size_t n, cap;
} strtab;

typedef struct {
	char *name; /* as written */
	char *part; /* resolved part name ("xl/worksheets/sheet1.xml") */
} sheet_ref;

struct tidu_xlsx {
	char *name; /* the file, for messages */
	char *data; /* the whole file; libzip reads from it */
	zip_t *zip;
	tidu_xlsx_limits lim;
	size_t total; /* uncompressed bytes read so far */
	sheet_ref *sheets;
	size_t nsheets;
	strtab *strings;
};

typedef struct {
	uint32_t row, col;
	uint32_t shared; /* 1: ref is an index into the shared strings */
	size_t ref;      /* else an offset into the sheet's text */
} cell;

struct tidu_xlsx_sheet {
	cell *cells; /* sorted by row, then column */
	size_t n, cap;
	tidu_buf text;
	strtab *strings;
	size_t rows, cols;
};

/* ---- strings ---- */

static strtab *strtab_new(void)
{
	strtab *t = tidu_calloc(1, sizeof(*t));

	t->refs = 1;
	return t;
}

static void strtab_unref(strtab *t)
{
	if (!t || --t->refs)
		return;
	tidu_buf_free(&t->text);
	free(t->off);
	free(t);
}

static void strtab_add(strtab *t, const char *s, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->off = tidu_reallocarray(t->off, t->cap, sizeof(*t->off));
	}
	t->off[t->n++] = t->text.len;
	tidu_buf_put(&t->text, s, len);
	tidu_buf_putc(&t->text, '\0');
}

/* ---- zip ---- */

static int zip_fail(const tidu_xlsx *x, zip_error_t *ze)
{
	return tidu_error_set(TIDU_EINVAL, _("cannot read '%s': not an .xlsx workbook (zip: %s)"),
			      x->name, zip_error_strerror(ze));
}

/* The index of part `name`, -1 when missing. OPC part names ignore case. */
static zip_int64_t part_find(tidu_xlsx *x, const char *name)
{
	zip_int64_t i = zip_name_locate(x->zip, name, 0);

	if (i < 0)
		i = zip_name_locate(x->zip, name, ZIP_FL_NOCASE);
	return i;
}

/*
 * Reads part `name` into `out` (cleared first), within the limits: the
 * declared size is checked first, then no more than that many bytes are
 * inflated (one more only to see that it is really the end).
 */
static int part_read(tidu_xlsx *x, const char *name, tidu_buf *out)
{
	zip_int64_t idx = part_find(x, name);
	zip_file_t *zf = NULL;
	zip_stat_t st;
	char chunk[CHUNK];
	size_t want, got = 0;
	int error = 0;

	tidu_buf_clear(out);
	if (idx < 0)
		return tidu_error_set(TIDU_EINVAL,
				      _("cannot read '%s': not an .xlsx workbook (no part '%s')"),
				      x->name, name);
	zip_stat_init(&st);
	if (zip_stat_index(x->zip, (zip_uint64_t)idx, 0, &st) != 0)
		return zip_fail(x, zip_get_error(x->zip));
	if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
	    st.size > SIZE_MAX)
		return tidu_error_set(TIDU_EINVAL, _("cannot read '%s': part '%s' has no declared size"),
				      x->name, name);
	want = (size_t)st.size;
	if (want > x->lim.max_part)
		return tidu_error_set(TIDU_EINVAL,
				      _("cannot read '%s': part '%s' is larger than %zu bytes"),
				      x->name, name, x->lim.max_part);
	if (want > x->lim.max_total - x->total)
		return tidu_error_set(TIDU_EINVAL,
				      _("cannot read '%s': the parts read are larger than %zu bytes in all"),
				      x->name, x->lim.max_total);
	if (want > RATIO_FLOOR &&
	    want / (st.comp_size ? st.comp_size : 1) > x->lim.max_ratio)
		return tidu_error_set(TIDU_EINVAL,
			_("cannot read '%s': part '%s' is compressed more than %zu times (a zip bomb?)"),
			x->name, name, x->lim.max_ratio);
	if (!(zf = zip_fopen_index(x->zip, (zip_uint64_t)idx, 0)))
		return tidu_error_set(TIDU_EINVAL, _("cannot read '%s': part '%s' is damaged (zip: %s)"),
				      x->name, name, zip_error_strerror(zip_get_error(x->zip)));
	tidu_buf_grow(out, want);
	for (;;) {
		size_t ask = want + 1 - got;
		zip_int64_t n;

		n = zip_fread(zf, chunk, ask < sizeof(chunk) ? ask : sizeof(chunk));
		if (n < 0) {
			error = tidu_error_set(TIDU_EINVAL,
					       _("cannot read '%s': part '%s' is damaged (zip: %s)"),
					       x->name, name, zip_error_strerror(zip_file_get_error(zf)));
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > want)
			break;
		tidu_buf_put(out, chunk, (size_t)n);
	}
	if (got != want)
		error = tidu_error_set(TIDU_EINVAL,
				       _("cannot read '%s': part '%s' does not have its declared size"),
				       x->name, name);
	else
		x->total += got;
done:
	zip_fclose(zf);
	if (error)
		tidu_buf_free(out);
	return error;
}

/* ---- XML ---- */

/* The start of every parse's user data: the parser and why it stopped. */
typedef struct {
	XML_Parser p;
	char *why; /* our reason, translated; NULL while all is well */
} xml_base;

/* Stops the parse with the reason `why` (taken). Only the first counts. */
static void stop(xml_base *b, char *why)
{
	if (b->why) {
		free(why);
		return;
	}
	b->why = why;
	XML_StopParser(b->p, XML_FALSE);
}

static const char *local(const XML_Char *name)
{
	const char *s = strrchr(name, NS_SEP);

	return s ? s + 1 : name;
}

/*
 * The attribute of local name `name`: with `qualified` 0 only the one
 * without a namespace ("r"), with 1 only one in some namespace ("r:id").
 */
static const char *attr(const XML_Char **atts, const char *name, int qualified)
{
	size_t i;

	for (i = 0; atts[i]; i += 2) {
		int q = strchr(atts[i], NS_SEP) != NULL;

		if (q == qualified && !strcmp(local(atts[i]), name))
			return atts[i + 1];
	}
	return NULL;
}

/* `s` quoted as a bounded excerpt, for a reason; the caller frees it. */
static char *excerpt(const char *s)
{
	tidu_buf b = TIDU_BUF_INIT;

	tidu_utf8_excerpt(&b, s, EXCERPT);
	return tidu_buf_detach(&b);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(ud, tidu_strdup(_("DTDs are not allowed")));
}

/* Never reached without a DTD; kept so that no entity is ever declared. */
static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len, const XML_Char *base,
			      const XML_Char *sysid, const XML_Char *pubid,
			      const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(ud, tidu_strdup(_("DTDs are not allowed")));
}

static const XML_Memory_Handling_Suite xml_mem = { tidu_malloc, tidu_realloc, free };

/*
 * Parses `text` (part `part` of `x`) with the handlers; `b` is the start of
 * their user data. TIDU_EINVAL naming file, part and line when the XML is
 * not well formed or a handler stopped it.
 */
static int xml_parse(const tidu_xlsx *x, const char *part, const tidu_buf *text, xml_base *b,
		     XML_StartElementHandler start, XML_EndElementHandler end,
		     XML_CharacterDataHandler chars)
{
	const char *p = text->ptr ? text->ptr : "";
	size_t off = 0;
	int error = 0;

	b->p = XML_ParserCreate_MM(NULL, &xml_mem, (XML_Char[]){ NS_SEP, 0 });
	if (!b->p)
		abort(); /* out of memory: tidu_malloc aborts before this */
	XML_SetUserData(b->p, b);
	XML_SetElementHandler(b->p, start, end);
	XML_SetCharacterDataHandler(b->p, chars);
	XML_SetStartDoctypeDeclHandler(b->p, on_doctype);
	XML_SetEntityDeclHandler(b->p, on_entity);
	XML_SetParamEntityParsing(b->p, XML_PARAM_ENTITY_PARSING_NEVER);
	do {
		size_t n = text->len - off < CHUNK * 16 ? text->len - off : CHUNK * 16;

		if (XML_Parse(b->p, p + off, (int)n, off + n == text->len) != XML_STATUS_OK) {
			error = 1;
			break;
		}
		off += n;
	} while (off < text->len);
	if (error || b->why)
		error = tidu_error_set(TIDU_EINVAL, _("cannot read '%s': part '%s', line %lu: %s"),
				       x->name, part,
				       (unsigned long)XML_GetCurrentLineNumber(b->p),
				       b->why ? b->why : XML_ErrorString(XML_GetErrorCode(b->p)));
	XML_ParserFree(b->p);
	b->p = NULL;
	free(b->why);
	b->why = NULL;
	return error;
}

/* ---- xl/workbook.xml ---- */

typedef struct {
	xml_base b;
	tidu_xlsx *x;
	char **rids; /* per sheet */
	int in_sheets;
} wb_ctx;

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	wb_ctx *c = ud;
	const char *l = local(name), *sname, *rid;

	if (c->b.why)
		return;
	if (!strcmp(l, "sheets")) {
		c->in_sheets++;
		return;
	}
	if (!c->in_sheets || strcmp(l, "sheet"))
		return;
	sname = attr(atts, "name", 0);
	rid = attr(atts, "id", 1);
	if (!sname || !rid) {
		stop(&c->b, tidu_strdup(_("a sheet without a name or relationship id")));
		return;
	}
	if (c->x->nsheets == MAX_SHEETS) {
		stop(&c->b, tidu_strprintf(_("more than %d sheets"), MAX_SHEETS));
		return;
	}
	c->x->sheets = tidu_reallocarray(c->x->sheets, c->x->nsheets + 1, sizeof(*c->x->sheets));
	c->rids = tidu_reallocarray(c->rids, c->x->nsheets + 1, sizeof(*c->rids));
	c->x->sheets[c->x->nsheets].name = tidu_strdup(sname);
	c->x->sheets[c->x->nsheets].part = NULL;
	c->rids[c->x->nsheets++] = tidu_strdup(rid);
}

static void XMLCALL wb_end(void *ud, const XML_Char *name)
{
	wb_ctx *c = ud;

	if (!strcmp(local(name), "sheets") && c->in_sheets)
		c->in_sheets--;
}

static void XMLCALL no_chars(void *ud, const XML_Char *s, int len)
{
	(void)ud;
	(void)s;
	(void)len;
}

/* ---- xl/_rels/workbook.xml.rels ---- */

typedef struct {
	char *id, *type, *target;
	int external;
} rel;

typedef struct {
	xml_base b;
	rel *rels;
	size_t n;
} rels_ctx;

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	rels_ctx *c = ud;
	const char *id, *type, *target, *mode;

	if (c->b.why || strcmp(local(name), "Relationship"))
		return;
	id = attr(atts, "Id", 0);
	type = attr(atts, "Type", 0);
	target = attr(atts, "Target", 0);
	mode = attr(atts, "TargetMode", 0);
	if (!id || !target)
		return; /* refers to nothing: harmless unless a sheet uses it */
	c->rels = tidu_reallocarray(c->rels, c->n + 1, sizeof(*c->rels));
	c->rels[c->n].id = tidu_strdup(id);
	c->rels[c->n].type = tidu_strdup(type ? type : "");
	c->rels[c->n].target = tidu_strdup(target);
	c->rels[c->n++].external = mode && !strcmp(mode, "External");
}

static void XMLCALL rels_end(void *ud, const XML_Char *name)
{
	(void)ud;
	(void)name;
}

static int rel_cmp(const void *a, const void *b)
{
	return strcmp(((const rel *)a)->id, ((const rel *)b)->id);
}

static void rels_free(rels_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->rels[i].id);
		free(c->rels[i].type);
		free(c->rels[i].target);
	}
	free(c->rels);
}

/*
 * The part that `target`, written in a relationship of a part in xl/,
 * names: relative to xl/, or absolute from the root of the package when it
 * starts with '/'. NULL when it would leave xl/ (or is not a plain path).
 */
static char *resolve(const char *target)
{
	tidu_buf path = TIDU_BUF_INIT, out = TIDU_BUF_INIT;
	const char *s;

	if (strchr(target, '\\') || strchr(target, ':') || strchr(target, '?') ||
	    strchr(target, '#'))
		return NULL; /* a URI with a scheme or a query, or a Windows path */
	if (target[0] != '/')
		tidu_buf_puts(&path, "xl/");
	tidu_buf_puts(&path, target);
	for (s = path.ptr; *s;) {
		size_t n = strcspn(s, "/");

		if (n == 2 && !strncmp(s, "..", 2)) {
			if (!out.len) {
				tidu_buf_free(&out);
				break;
			}
			{
				char *slash = strrchr(out.ptr, '/');

				tidu_buf_truncate(&out, slash ? (size_t)(slash - out.ptr) : 0);
			}
		} else if (n && !(n == 1 && *s == '.')) {
			if (out.len)
				tidu_buf_putc(&out, '/');
			tidu_buf_put(&out, s, n);
		}
		s += n;
		if (*s == '/')
			s++;
	}
	tidu_buf_free(&path);
	if (!out.ptr || out.len <= 3 || strncmp(out.ptr, "xl/", 3)) {
		tidu_buf_free(&out);
		return NULL;
	}
	return tidu_buf_detach(&out);
}

/*
 * The part of relationship `r`, for `what` (a sheet, the shared strings):
 * inside xl/ and in the file, else TIDU_EINVAL.
 */
static int rel_part(tidu_xlsx *x, const rel *r, const char *what, char **out)
{
	char *part = r->external ? NULL : resolve(r->target);
	char *t;

	*out = NULL;
	if (!part) {
		t = excerpt(r->target);
		tidu_error_set(TIDU_EINVAL,
			       _("cannot read '%s': %s refers to '%s', outside the workbook's folder xl/ (part '%s')"),
			       x->name, what, t, WORKBOOK_RELS);
		free(t);
		return TIDU_EINVAL;
	}
	if (part_find(x, part) < 0) {
		t = excerpt(part);
		tidu_error_set(TIDU_EINVAL,
			       _("cannot read '%s': %s refers to part '%s', which is not in the file"),
			       x->name, what, t);
		free(t);
		free(part);
		return TIDU_EINVAL;
	}
	*out = part;
	return 0;
}

/* ---- the shared strings ---- */

typedef struct {
	xml_base b;
	strtab *t;
	const tidu_xlsx_limits *lim;
	int in_si, in_t, rph;
	tidu_buf cur;
} sst_ctx;

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	sst_ctx *c = ud;
	const char *l = local(name);

	(void)atts;
	if (c->b.why)
		return;
	if (!strcmp(l, "si")) {
		c->in_si = 1;
		c->in_t = c->rph = 0;
		tidu_buf_clear(&c->cur);
	} else if (c->in_si && !strcmp(l, "rPh")) {
		c->rph++;
	} else if (c->in_si && !c->rph && !strcmp(l, "t")) {
		c->in_t = 1;
	}
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
	sst_ctx *c = ud;
	const char *l = local(name);

	if (c->b.why || !c->in_si)
		return;
	if (!strcmp(l, "t")) {
		c->in_t = 0;
	} else if (!strcmp(l, "rPh")) {
		if (c->rph)
			c->rph--;
	} else if (!strcmp(l, "si")) {
		c->in_si = 0;
		if (c->t->n >= c->lim->max_strings) {
			stop(&c->b, tidu_strprintf(_("more than %zu shared strings"),
						   c->lim->max_strings));
			return;
		}
		strtab_add(c->t, tidu_buf_cstr(&c->cur), c->cur.len);
	}
}

static void XMLCALL sst_chars(void *ud, const XML_Char *s, int len)
{
	sst_ctx *c = ud;

	if (c->b.why || !c->in_si || !c->in_t || c->rph)
		return;
	if ((size_t)len > c->lim->max_cell_text - c->cur.len) {
		stop(&c->b, tidu_strprintf(_("a text is longer than %zu bytes"),
					   c->lim->max_cell_text));
		return;
	}
	tidu_buf_put(&c->cur, s, (size_t)len);
}

static int read_strings(tidu_xlsx *x, const char *part)
{
	tidu_buf text = TIDU_BUF_INIT;
	sst_ctx c = { 0 };
	int error;

	if ((error = part_read(x, part, &text)))
		return error;
	c.t = x->strings;
	c.lim = &x->lim;
	error = xml_parse(x, part, &text, &c.b, sst_start, sst_end, sst_chars);
	tidu_buf_free(&c.cur);
	tidu_buf_free(&text);
	return error;
}

/* ---- opening ---- */

static int read_workbook(tidu_xlsx *x)
{
	tidu_buf text = TIDU_BUF_INIT;
	wb_ctx wb = { .x = x };
	rels_ctx rc = { 0 };
	char *sst = NULL, *what = NULL;
	size_t i;
	int error;

	if ((error = part_read(x, WORKBOOK, &text)) ||
	    (error = xml_parse(x, WORKBOOK, &text, &wb.b, wb_start, wb_end, no_chars)))
		goto done;
	if ((error = part_read(x, WORKBOOK_RELS, &text)) ||
	    (error = xml_parse(x, WORKBOOK_RELS, &text, &rc.b, rels_start, rels_end, no_chars)))
		goto done;
	if (rc.n)
		qsort(rc.rels, rc.n, sizeof(*rc.rels), rel_cmp);
	for (i = 0; i < x->nsheets; i++) {
		rel key = { .id = wb.rids[i] };
		const rel *r = rc.n ? bsearch(&key, rc.rels, rc.n, sizeof(*rc.rels), rel_cmp) : NULL;
		char *sn = excerpt(x->sheets[i].name);

		free(what);
		what = tidu_strprintf(_("sheet '%s'"), sn);
		free(sn);
		if (!r) {
			char *id = excerpt(wb.rids[i]);

			error = tidu_error_set(TIDU_EINVAL,
					       _("cannot read '%s': %s has no relationship '%s' in '%s'"),
					       x->name, what, id, WORKBOOK_RELS);
			free(id);
			goto done;
		}
		if ((error = rel_part(x, r, what, &x->sheets[i].part)))
			goto done;
	}
	for (i = 0; i < rc.n; i++) {
		const char *t = rc.rels[i].type;
		size_t tl = strlen(t);

		if (tl >= 14 && !strcmp(t + tl - 14, "/sharedStrings")) {
			if ((error = rel_part(x, &rc.rels[i], _("the shared strings"), &sst)))
				goto done;
			break;
		}
	}
	if (!sst && part_find(x, SST_DEFAULT) >= 0)
		sst = tidu_strdup(SST_DEFAULT);
	if (sst)
		error = read_strings(x, sst);
done:
	for (i = 0; wb.rids && i < x->nsheets; i++)
		free(wb.rids[i]);
	free(wb.rids);
	rels_free(&rc);
	tidu_buf_free(&text);
	free(sst);
	free(what);
	return error;
}

/* Opens the `len` bytes at `data` (taken: freed with the workbook). */
static int open_owned(const char *name, char *data, size_t len, const tidu_xlsx_limits *lim,
		      tidu_xlsx **out)
{
	tidu_xlsx *x = tidu_calloc(1, sizeof(*x));
	zip_source_t *src;
	zip_error_t ze;
	int error = 0;

	zip_error_init(&ze);
	x->name = tidu_strdup(name);
	x->data = data;
	x->lim = lim ? *lim : tidu_xlsx_default_limits;
	x->strings = strtab_new();
	if (!(src = zip_source_buffer_create(data, len, 0, &ze))) {
		error = zip_fail(x, &ze);
		goto done;
	}
	if (!(x->zip = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze))) {
		zip_source_free(src);
		error = zip_fail(x, &ze);
		goto done;
	}
	error = read_workbook(x);
done:
	zip_error_fini(&ze);
	if (error) {
		tidu_xlsx_free(x);
		x = NULL;
	}
	*out = x;
	return error;
}

int tidu_xlsx_open(const char *path, const tidu_xlsx_limits *lim, tidu_xlsx **out)
{
	tidu_buf b = TIDU_BUF_INIT;
	size_t len;
	int error;

	*out = NULL;
	if ((error = tidu_file_read(path, (lim ? lim : &tidu_xlsx_default_limits)->max_file, &b)))
		return error;
	len = b.len;
	return open_owned(path, tidu_buf_detach(&b), len, lim, out);
}

int tidu_xlsx_open_mem(const char *name, const void *data, size_t len,
		       const tidu_xlsx_limits *lim, tidu_xlsx **out)
{
	size_t max = (lim ? lim : &tidu_xlsx_default_limits)->max_file;
	char *copy;

	*out = NULL;
	if (len > max)
		return tidu_error_set(TIDU_EINVAL, _("cannot read '%s': the file is larger than %zu bytes"),
				      name, max);
	copy = tidu_malloc(len);
	if (len)
		memcpy(copy, data, len);
	return open_owned(name, copy, len, lim, out);
}

void tidu_xlsx_free(tidu_xlsx *x)
{
	size_t i;

	if (!x)
		return;
	if (x->zip)
		zip_discard(x->zip);
	for (i = 0; i < x->nsheets; i++) {
		free(x->sheets[i].name);
		free(x->sheets[i].part);
	}
	free(x->sheets);
	strtab_unref(x->strings);
	free(x->data);
	free(x->name);
	free(x);
}

size_t tidu_xlsx_sheet_count(const tidu_xlsx *x)
{
	return x ? x->nsheets : 0;
}

const char *tidu_xlsx_sheet_name(const tidu_xlsx *x, size_t i)
{
	return x && i < x->nsheets ? x->sheets[i].name : NULL;
}

/* ---- a sheet ---- */

typedef struct {
	xml_base b;
	tidu_xlsx_sheet *s;
	const tidu_xlsx_limits *lim;
	int in_data;       /* inside <sheetData> */
	uint32_t row;      /* of the current <row> */
	uint32_t next_row; /* for a <row> without r */
	uint32_t next_col; /* for a <c> without r */
	int in_cell, in_v, in_is, in_t, rph, has_value;
	uint32_t crow, ccol;
	char type; /* 's' shared, 'i' inline, 'b' boolean, else as written */
	tidu_buf cur;
} sh_ctx;

/* "B3" -> 0-based row 2, column 1; -1 unless a cell of Excel's grid. */
static int parse_ref(const char *r, uint32_t *row, uint32_t *col)
{
	uint32_t c = 0, n = 0;
	int letters = 0, digits = 0;

	for (; (*r >= 'A' && *r <= 'Z') || (*r >= 'a' && *r <= 'z'); r++) {
		if (++letters > 3)
			return -1;
		c = c * 26 + (uint32_t)((*r | 0x20) - 'a' + 1);
	}
	if (!letters || c > MAX_COLS || *r < '1' || *r > '9')
		return -1;
	for (; *r >= '0' && *r <= '9'; r++) {
		if (++digits > 7)
			return -1;
		n = n * 10 + (uint32_t)(*r - '0');
	}
	if (*r || n > MAX_ROWS)
		return -1;
	*row = n - 1;
	*col = c - 1;
	return 0;
}

/* A decimal number without sign or leading zero, at most `max`; -1 if not. */
static int parse_count(const char *s, size_t max, size_t *out)
{
	size_t n = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (max - (size_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (size_t)(*s - '0');
	}
	if (*s)
		return -1;
	*out = n;
	return 0;
}

static char *cell_reason(const sh_ctx *c, const char *fmt, const char *arg)
{
	char name[16], *q = excerpt(arg), *why;

	tidu_xlsx_cell_name(c->crow, c->ccol, name);
	why = tidu_strprintf(fmt, name, q);
	free(q);
	return why;
}

static void sh_cell(sh_ctx *c, const XML_Char **atts)
{
	const char *r = attr(atts, "r", 0), *t = attr(atts, "t", 0);

	if (r) {
		if (parse_ref(r, &c->crow, &c->ccol)) {
			char *q = excerpt(r);

			stop(&c->b, tidu_strprintf(_("invalid cell reference '%s'"), q));
			free(q);
			return;
		}
	} else {
		if (c->next_col >= MAX_COLS) {
			stop(&c->b, tidu_strprintf(_("more than %d columns in a row"), MAX_COLS));
			return;
		}
		c->crow = c->row;
		c->ccol = c->next_col;
	}
	c->next_col = c->ccol + 1;
	c->type = 'n';
	if (t && !strcmp(t, "s"))
		c->type = 's';
	else if (t && !strcmp(t, "inlineStr"))
		c->type = 'i';
	else if (t && !strcmp(t, "b"))
		c->type = 'b';
	c->in_cell = 1;
	c->in_v = c->in_is = c->in_t = c->rph = c->has_value = 0;
	tidu_buf_clear(&c->cur);
}

static void sh_row(sh_ctx *c, const XML_Char **atts)
{
	const char *r = attr(atts, "r", 0);
	size_t n;

	if (r) {
		if (parse_count(r, MAX_ROWS, &n) || n == 0) {
			char *q = excerpt(r);

			stop(&c->b, tidu_strprintf(_("invalid row number '%s'"), q));
			free(q);
			return;
		}
		c->row = (uint32_t)(n - 1);
	} else {
		if (c->next_row >= MAX_ROWS) {
			stop(&c->b, tidu_strprintf(_("more than %d rows"), MAX_ROWS));
			return;
		}
		c->row = c->next_row;
	}
	c->next_row = c->row + 1;
	c->next_col = 0;
}

static void XMLCALL sh_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	sh_ctx *c = ud;
	const char *l = local(name);

	if (c->b.why)
		return;
	if (!strcmp(l, "sheetData")) {
		c->in_data = 1;
		c->next_row = 0;
	} else if (!c->in_data) {
		return;
	} else if (!strcmp(l, "row")) {
		sh_row(c, atts);
	} else if (!strcmp(l, "c")) {
		sh_cell(c, atts);
	} else if (!c->in_cell) {
		return;
	} else if (!strcmp(l, "v")) {
		c->in_v = c->has_value = 1;
	} else if (!strcmp(l, "is")) {
		c->in_is = c->has_value = 1;
	} else if (c->in_is && !strcmp(l, "rPh")) {
		c->rph++;
	} else if (c->in_is && !c->rph && !strcmp(l, "t")) {
		c->in_t = 1;
	}
}

static void sh_add(sh_ctx *c, uint32_t shared, size_t ref)
{
	tidu_xlsx_sheet *s = c->s;

	if (s->n >= c->lim->max_cells) {
		stop(&c->b, tidu_strprintf(_("more than %zu cells"), c->lim->max_cells));
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->cells = tidu_reallocarray(s->cells, s->cap, sizeof(*s->cells));
	}
	s->cells[s->n++] = (cell){ .row = c->crow, .col = c->ccol, .shared = shared, .ref = ref };
}

/* The cell just closed: its value, if any, into the sheet. */
static void sh_finish(sh_ctx *c)
{
	const char *v = tidu_buf_cstr(&c->cur);
	size_t idx;

	if (!c->has_value)
		return;
	if (c->type == 's') {
		if (parse_count(v, SIZE_MAX, &idx) || idx >= c->s->strings->n) {
			stop(&c->b, cell_reason(c, _("cell %s: shared string '%s' does not exist"), v));
			return;
		}
		if (c->s->strings->text.ptr[c->s->strings->off[idx]])
			sh_add(c, 1, idx);
		return;
	}
	if (c->type == 'b') {
		if (!strcmp(v, "1") || !strcmp(v, "true"))
			v = "TRUE";
		else if (!strcmp(v, "0") || !strcmp(v, "false"))
			v = "FALSE";
		else {
			stop(&c->b, cell_reason(c, _("cell %s: invalid boolean '%s'"), v));
			return;
		}
	}
	if (!*v)
		return;
	sh_add(c, 0, c->s->text.len);
	tidu_buf_puts(&c->s->text, v);
	tidu_buf_putc(&c->s->text, '\0');
}

static void XMLCALL sh_end(void *ud, const XML_Char *name)
{
	sh_ctx *c = ud;
	const char *l = local(name);

	if (c->b.why || !c->in_data)
		return;
	if (!strcmp(l, "sheetData")) {
		c->in_data = 0;
	} else if (!c->in_cell) {
		return;
	} else if (!strcmp(l, "c")) {
		c->in_cell = 0;
		sh_finish(c);
	} else if (!strcmp(l, "v")) {
		c->in_v = 0;
	} else if (!strcmp(l, "is")) {
		c->in_is = 0;
	} else if (!strcmp(l, "rPh")) {
		if (c->rph)
			c->rph--;
	} else if (!strcmp(l, "t")) {
		c->in_t = 0;
	}
}

static void XMLCALL sh_chars(void *ud, const XML_Char *s, int len)
{
	sh_ctx *c = ud;

	if (c->b.why || !c->in_cell || !(c->in_v || (c->in_is && c->in_t && !c->rph)))
		return;
	if ((size_t)len > c->lim->max_cell_text - c->cur.len) {
		char name[16];

		tidu_xlsx_cell_name(c->crow, c->ccol, name);
		stop(&c->b, tidu_strprintf(_("cell %s: the text is longer than %zu bytes"), name,
					   c->lim->max_cell_text));
		return;
	}
	tidu_buf_put(&c->cur, s, (size_t)len);
}

static int cell_cmp(const void *a, const void *b)
{
	const cell *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

int tidu_xlsx_sheet_read(tidu_xlsx *x, size_t i, tidu_xlsx_sheet **out)
{
	tidu_buf text = TIDU_BUF_INIT;
	tidu_xlsx_sheet *s = NULL;
	sh_ctx c = { 0 };
	size_t k;
	int error;

	*out = NULL;
	if (!x || i >= x->nsheets)
		return tidu_error_set(TIDU_ENOTFOUND, _("no sheet %zu in '%s'"), i,
				      x ? x->name : "");
	if ((error = part_read(x, x->sheets[i].part, &text)))
		return error;
	s = tidu_calloc(1, sizeof(*s));
	s->strings = x->strings;
	s->strings->refs++;
	c.s = s;
	c.lim = &x->lim;
	if ((error = xml_parse(x, x->sheets[i].part, &text, &c.b, sh_start, sh_end, sh_chars)))
		goto done;
	if (s->n)
		qsort(s->cells, s->n, sizeof(*s->cells), cell_cmp);
	for (k = 0; k < s->n; k++) {
		if (k && !cell_cmp(&s->cells[k - 1], &s->cells[k])) {
			char name[16];

			tidu_xlsx_cell_name(s->cells[k].row, s->cells[k].col, name);
			error = tidu_error_set(TIDU_EINVAL,
					       _("cannot read '%s': part '%s': cell %s appears twice"),
					       x->name, x->sheets[i].part, name);
			goto done;
		}
		if (s->cells[k].row >= s->rows)
			s->rows = (size_t)s->cells[k].row + 1;
		if (s->cells[k].col >= s->cols)
			s->cols = (size_t)s->cells[k].col + 1;
	}
done:
	tidu_buf_free(&c.cur);
	tidu_buf_free(&text);
	if (error) {
		tidu_xlsx_sheet_free(s);
		s = NULL;
	}
	*out = s;
	return error;
}

void tidu_xlsx_sheet_free(tidu_xlsx_sheet *s)
{
	if (!s)
		return;
	strtab_unref(s->strings);
	tidu_buf_free(&s->text);
	free(s->cells);
	free(s);
}

size_t tidu_xlsx_rows(const tidu_xlsx_sheet *s)
{
	return s ? s->rows : 0;
}

size_t tidu_xlsx_cols(const tidu_xlsx_sheet *s)
{
	return s ? s->cols : 0;
}

const char *tidu_xlsx_cell(const tidu_xlsx_sheet *s, size_t row, size_t col)
{
	cell key;
	const cell *c;

	if (!s || row >= s->rows || col >= s->cols)
		return NULL;
	key.row = (uint32_t)row;
	key.col = (uint32_t)col;
	c = bsearch(&key, s->cells, s->n, sizeof(*s->cells), cell_cmp);
	if (!c)
		return NULL;
	return c->shared ? s->strings->text.ptr + s->strings->off[c->ref] : s->text.ptr + c->ref;
}

void tidu_xlsx_cell_name(size_t row, size_t col, char out[16])
{
	char tmp[48], *p = tmp + sizeof(tmp);
	size_t c = col, n = row < SIZE_MAX ? row + 1 : row; /* SIZE_MAX: cut below anyway */

	/* Built backwards from the end: the row's digits, then the letters. */
	*--p = '\0';
	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	for (;;) {
		*--p = (char)('A' + c % 26);
		if (c < 26)
			break;
		c = c / 26 - 1;
	}
	snprintf(out, 16, "%.15s", p);
}
