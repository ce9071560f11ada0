#ifndef TIDU_ASSESS_INT_H
#define TIDU_ASSESS_INT_H
/* The parsed form of a rule pack, shared by assess_pack.c and assess.c. */
#include "tidu/assess.h"
#include "tidu/dict.h"

typedef enum {
	X_NUM, X_STR, X_FIELD, X_YFIELD, X_YEAR, X_LET, X_NEG, X_NOT, X_BIN, X_CALL
} x_kind;

/* Binary operators. */
enum {
	OP_ADD = 1, OP_SUB, OP_MUL, OP_DIV,
	OP_GE, OP_GT, OP_LE, OP_LT, OP_EQ, OP_NE,
	OP_AND, OP_OR
};

/* The most arguments a function call takes (refused at load beyond). */
#define X_MAX_ARGS 16

/* Functions of the language. */
typedef enum {
	F_PCT, F_GROWTH, F_CAGR, F_AVG, F_MIN, F_MAX, F_IF, F_COUNT, F_IN, F_FLOOR
} x_fn;

typedef struct x_node {
	x_kind kind;
	int op;                 /* X_BIN */
	double num;             /* X_NUM */
	char *str;              /* X_STR */
	const tidu_field *field; /* X_FIELD, X_YFIELD */
	int yoff;               /* X_YFIELD: Y + yoff */
	size_t let;             /* X_LET: index in the pack's lets */
	x_fn fn;                /* X_CALL */
	struct x_node **args;   /* X_CALL, X_BIN (2), X_NEG/X_NOT (1) */
	size_t nargs;
} x_node;

typedef struct {
	char *id;
	x_node *expr;
} p_let;

typedef struct {
	char *id, *zh, *en;
} p_note;

typedef struct {
	int op;            /* band: OP_GE..OP_LT; 0 for a `when` band */
	double bound;
	x_node *cond;      /* when */
	char *text;        /* when: the condition as written */
	double points;
} p_band;

typedef enum { IND_BANDS, IND_WHEN, IND_POINTS } ind_kind;

typedef struct {
	char *id, *category, *zh, *en, *unit;
	double max;
	ind_kind kind;
	x_node *value;     /* bands: the value; points: the points */
	p_band *bands;
	size_t nbands;
	double else_points;
	int line;
} p_ind;

typedef struct {
	char *id, *zh, *en;
	double floor;
} p_cat;

typedef struct {
	char *id, *zh, *en;
	x_node *test, *exempt;
	int line;
} p_cond;

typedef struct {
	char *id, *zh, *en;
	const tidu_field *field;
} p_judge;

typedef struct {
	int present;
	char *zh, *en;
	char *from;        /* "tier N from PACK": that pack's table */
	int has_score;
	double pass_score;
	p_cat *cats;
	size_t ncats;
	p_ind *inds;
	size_t ninds;
	p_cond *reqs, *directs;
	size_t nreqs, ndirects;
	p_judge *judges;
	size_t njudges;
	int line;
} p_tier;

struct tidu_pack {
	char *id, *zh, *en, *name;
	char *text;        /* the pack as read */
	int version;
	int city;          /* from this store's table (the city's), not embedded */
	char in_force[11];
	p_note *notes;
	size_t nnotes;
	p_let *lets;
	size_t nlets;
	p_tier tiers[3];
};

struct tidu_packs {
	tidu_pack **packs;  /* sorted by id */
	size_t n;
};

/* A label in the current language (zh falls back to en and back). */
const char *tidu_assess_label(const char *zh, const char *en);

#endif
