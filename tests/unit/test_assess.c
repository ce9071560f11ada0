/*
 * Unit tests: assess.h. The expected points are computed by hand from
 * shared/docs/domain.md §2 (the tables and §2.5), never from the engine's
 * output: each case says how.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tidu/assess.h"
#include "tidu/error.h"
#include "tidu/i18n.h"

static tidu_packs *packs;

static int setup(void **state)
{
	(void)state;
	tidu_i18n_set("en");
	return tidu_packs_load(&packs);
}

static int teardown(void **state)
{
	(void)state;
	tidu_packs_free(packs);
	return 0;
}

/* A firm with no stored values, then KEY=VALUE pairs (what-if values). */
static tidu_assess_input *firm(const char *const *kv)
{
	tidu_rec empty = TIDU_REC_INIT;
	tidu_assess_input *in = tidu_assess_input_take(&empty, NULL, 0);

	for (; *kv; kv++) {
		char key[64];
		const char *eq = strchr(*kv, '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
		if (tidu_assess_input_set(in, key, eq + 1) < 0)
			fail_msg("%s: %s", *kv, tidu_error_message());
	}
	return in;
}

static tidu_assessment *run(const char *rules, tidu_assess_input *in, int year, int tier)
{
	tidu_assessment *a = NULL;
	const tidu_pack *p = tidu_packs_find(packs, rules);

	assert_non_null(p);
	assert_int_equal(tidu_assess_run(packs, p, in, year, tier, &a), 0);
	return a;
}

static const tidu_assess_indicator *ind(const tidu_assess_tier *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->nindicators; i++)
		if (!strcmp(t->indicators[i].id, id))
			return &t->indicators[i];
	fail_msg("no indicator %s", id);
	return NULL;
}

static const tidu_assess_failed *failed(const tidu_assess_tier *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->nfailed; i++)
		if (!strcmp(t->failed[i].id, id))
			return &t->failed[i];
	return NULL;
}

static int missing(const tidu_assess_tier *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nmissing; i++)
		if (!strcmp(t->missing[i], name))
			return 1;
	return 0;
}

/* A whole tier-1 firm of rules-2022, complete, no direct condition. */
static const char *const t1_base[] = {
	"ip_class1=2", "ip_class1_self=0", "ip_class1_high_value=0", "ip_class2=1",
	"product_field=other", "high_tech_title=0", "st_award=none", "rd_institution=none",
	"2023.equity_financing=0", "2024.equity_financing=0", "2025.equity_financing=0",
	"2024.revenue=9000", "2024.main_revenue=8000",
	"2025.revenue=10000", "2025.main_revenue=8800", "2025.rd_expense=250",
	"2025.total_assets=10000", "2025.total_liabilities=6000", NULL,
};

static void test_packs(void **state)
{
	(void)state;
	assert_non_null(tidu_packs_find(packs, "rules-2022"));
	assert_non_null(tidu_packs_find(packs, "rules-2026"));
	assert_null(tidu_packs_find(packs, "rules-2030"));
	assert_string_equal(tidu_pack_id(tidu_packs_in_force(packs, "2025-12-31")), "rules-2022");
	assert_string_equal(tidu_pack_id(tidu_packs_in_force(packs, "2026-04-01")), "rules-2026");
	assert_string_equal(tidu_pack_id(tidu_packs_in_force(packs, "2026-03-31")), "rules-2022");
}

static void test_tier1_whole_firm(void **state)
{
	tidu_assess_input *in = firm(t1_base);
	tidu_assessment *a = run("rules-2022", in, 0, 1);
	const tidu_assess_tier *t = &a->tiers[0];

	(void)state;
	/*
	 * By hand: IP class I ≥ 1 (not self-developed) 10; R&D 250/10000 =
	 * 2.5% → 10; main growth (8800-8000)/8000 = 10% → 15; debt 60% → 5;
	 * other field 5; main share 88% → 20. Innovation 20 (floor 20), growth
	 * 20 (15), specialisation 25 (15); total 65 ≥ 60: pass.
	 */
	assert_int_equal(a->year, 2025);
	assert_int_equal(t->status, TIDU_ASSESS_PASS);
	assert_true(t->score == 65 && t->score_max == 65);
	assert_true(ind(t, "ip")->points == 10);
	assert_true(ind(t, "rd_ratio")->points == 10);
	assert_true(ind(t, "rd_ratio")->value == 2.5);
	assert_true(ind(t, "rd_ratio")->next.value == 3 && ind(t, "rd_ratio")->next.points == 15);
	assert_true(ind(t, "growth")->points == 15);
	assert_true(ind(t, "debt")->points == 5);
	assert_string_equal(ind(t, "debt")->next.op, "<=");
	assert_true(ind(t, "debt")->next.value == 55);
	assert_true(ind(t, "field")->points == 5);
	assert_true(ind(t, "main_share")->points == 20);
	assert_false(ind(t, "main_share")->next.has);
	assert_int_equal(t->nmissing, 0);
	assert_int_equal(t->nfailed, 0);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

static void test_tier1_band_edges(void **state)
{
	tidu_assess_input *in = firm(t1_base);
	tidu_assessment *a;

	(void)state;
	/* Exactly 5% gets the ≥ 5% band; 55% debt the ≤ 55% one; 75% gets 0. */
	assert_int_equal(tidu_assess_input_set(in, "2025.rd_expense", "500"), 0);
	assert_int_equal(tidu_assess_input_set(in, "2025.total_liabilities", "5500"), 0);
	a = run("rules-2022", in, 0, 1);
	assert_true(ind(&a->tiers[0], "rd_ratio")->points == 20);
	assert_true(ind(&a->tiers[0], "debt")->points == 10);
	tidu_assessment_free(a);
	assert_int_equal(tidu_assess_input_set(in, "2025.total_liabilities", "7500"), 0);
	assert_int_equal(tidu_assess_input_set(in, "2025.rd_expense", "499.9"), 0);
	a = run("rules-2022", in, 0, 1);
	assert_true(ind(&a->tiers[0], "debt")->points == 0);
	assert_true(ind(&a->tiers[0], "rd_ratio")->points == 15);
	tidu_assessment_free(a);
	/* Zero growth is the 0–5% band (5), a fall is 0. */
	assert_int_equal(tidu_assess_input_set(in, "2025.main_revenue", "8000"), 0);
	a = run("rules-2022", in, 0, 1);
	assert_true(ind(&a->tiers[0], "growth")->points == 5);
	tidu_assessment_free(a);
	assert_int_equal(tidu_assess_input_set(in, "2025.main_revenue", "7999"), 0);
	a = run("rules-2022", in, 0, 1);
	assert_true(ind(&a->tiers[0], "growth")->points == 0);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

static void test_tier1_floor_and_direct(void **state)
{
	tidu_assess_input *in = firm(t1_base);
	tidu_assessment *a;
	const tidu_assess_failed *f;

	(void)state;
	/*
	 * IP: class II only → 5; R&D 2.5% → 10: innovation 15 < 20. Growth 20%
	 * → 20, debt 50% → 10; strategic field 10, share 96% → 20: total 75,
	 * yet the innovation floor fails it.
	 */
	tidu_assess_input_set(in, "ip_class1", "0");
	tidu_assess_input_set(in, "2025.main_revenue", "9600");
	tidu_assess_input_set(in, "2024.main_revenue", "8000");
	tidu_assess_input_set(in, "2025.total_liabilities", "5000");
	tidu_assess_input_set(in, "product_field", "strategic_emerging");
	a = run("rules-2022", in, 0, 1);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_FAIL);
	assert_true(a->tiers[0].score == 75); /* 15 + 30 + 30 */
	assert_non_null(f = failed(&a->tiers[0], "innovation"));
	assert_true(f->value == 15 && f->threshold == 20);
	assert_null(failed(&a->tiers[0], "score"));
	tidu_assessment_free(a);
	/* A valid high-tech title passes it directly. */
	tidu_assess_input_set(in, "high_tech_title", "1");
	a = run("rules-2022", in, 0, 1);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_PASS);
	assert_int_equal(a->tiers[0].ndirect, 1);
	assert_string_equal(a->tiers[0].direct[0], "high_tech_title");
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

static void test_missing_is_named_not_zero(void **state)
{
	tidu_assess_input *in = firm(t1_base);
	tidu_assessment *a;
	const tidu_assess_indicator *g;

	(void)state;
	/* No 2024 main revenue: growth is missing (0 to 20), not 0%. */
	tidu_assess_input_set(in, "2024.main_revenue", "");
	a = run("rules-2022", in, 0, 1);
	g = ind(&a->tiers[0], "growth");
	assert_false(g->known);
	assert_false(g->has_value);
	assert_true(g->points == 0 && g->points_max == 20);
	assert_true(missing(&a->tiers[0], "2024.main_revenue"));
	/* 65 - 15 = 50 sure, at most 70: neither pass nor fail. */
	assert_true(a->tiers[0].score == 50 && a->tiers[0].score_max == 70);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_INCOMPLETE);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

static void test_tier2_basic_conditions_all_listed(void **state)
{
	static const char *const kv[] = {
		"niche_since=2024", "2025.revenue=800", "2025.rd_expense=50",
		"2024.equity_financing=0", "2025.equity_financing=0", NULL,
	};
	tidu_assess_input *in = firm(kv);
	tidu_assessment *a = run("rules-2022", in, 0, 2);
	const tidu_assess_tier *t = &a->tiers[0];
	const tidu_assess_failed *f;

	(void)state;
	/* 1 year in the niche, R&D 0.5 M and 6.25%, revenue 8 M: three fail. */
	assert_int_equal(t->status, TIDU_ASSESS_FAIL);
	assert_non_null(f = failed(t, "niche_years"));
	assert_true(f->value == 1 && f->threshold == 2);
	assert_non_null(f = failed(t, "rd_amount"));
	assert_true(f->value == 50 && f->threshold == 100);
	assert_null(failed(t, "rd_ratio"));
	assert_non_null(f = failed(t, "revenue"));
	assert_true(f->value == 800 && f->threshold == 1000);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

/* A firm that meets every rules-2026 tier-3 threshold. */
static const char *const t3_2026[] = {
	"tier=2", "niche_since=2015", "ip_class1=5", "st_award=none", "niche_share=12",
	"niche_rank=5", "platform_score=70",
	"2023.revenue=8000", "2024.revenue=9000", "2024.rd_expense=600",
	"2025.revenue=10000", "2025.main_revenue=9500", "2025.rd_expense=700",
	"2025.total_assets=10000", "2025.total_liabilities=6000", NULL,
};

static void test_tier3_2026_judgement(void **state)
{
	tidu_assess_input *in = firm(t3_2026);
	tidu_assessment *a;

	(void)state;
	/*
	 * CAGR √(10000/8000) - 1 = 11.8% ≥ 5; R&D 1300 ≥ 1200; 6.7% and 7% ≥ 3;
	 * main share 95% ≥ 90; debt 60% ≤ 75: all hold, two judgements open.
	 */
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_UNDECIDED);
	assert_int_equal(a->tiers[0].njudgement, 2);
	assert_int_equal(a->tiers[0].nmissing, 0);
	tidu_assessment_free(a);
	tidu_assess_input_set(in, "judge.field_fit", "yes");
	tidu_assess_input_set(in, "judge.chain_role", "是");
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_PASS);
	tidu_assessment_free(a);
	tidu_assess_input_set(in, "judge.chain_role", "no");
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_FAIL);
	assert_non_null(failed(&a->tiers[0], "judge.chain_role"));
	tidu_assessment_free(a);
	/* 2 class I IP fail, unless a national top-3 award exempts it. */
	tidu_assess_input_set(in, "judge.chain_role", "yes");
	tidu_assess_input_set(in, "ip_class1", "2");
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_FAIL);
	assert_true(failed(&a->tiers[0], "ip")->value == 2);
	tidu_assessment_free(a);
	tidu_assess_input_set(in, "st_award", "national_top3");
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_PASS);
	assert_int_equal(a->tiers[0].nexempt, 1);
	assert_string_equal(a->tiers[0].exempt[0], "ip");
	tidu_assessment_free(a);
	/* A CAGR under 5%: 2023 revenue 9600 → √(10000/9600) - 1 = 2.1%. */
	tidu_assess_input_set(in, "2023.revenue", "9600");
	a = run("rules-2026", in, 0, 3);
	assert_int_equal(a->tiers[0].status, TIDU_ASSESS_FAIL);
	assert_true(failed(&a->tiers[0], "cagr")->value < 5);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

static void test_tier1_2026_uses_2022_table(void **state)
{
	tidu_assess_input *in = firm(t1_base);
	tidu_assessment *a = run("rules-2026", in, 0, 1);

	(void)state;
	assert_string_equal(a->tiers[0].rules, "rules-2022");
	assert_true(a->tiers[0].score == 65);
	tidu_assessment_free(a);
	tidu_assess_input_free(in);
}

/*
 * Raising any one input that only raises indicators never lowers a score
 * (employees is not one: it lowers the R&D staff share).
 */
static void test_property_monotone(void **state)
{
	static const char *const keys[] = {
		"ip_class1", "ip_class2", "2025.rd_expense", "2025.main_revenue", "rd_staff",
	};
	unsigned seed = 12345;
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		tidu_assess_input *in = firm(t1_base);
		tidu_assessment *a, *b;
		char v[32];
		size_t k = (seed = seed * 1103515245u + 12345u) % 5;
		double base = (double)((seed >> 8) % 12000);

		snprintf(v, sizeof(v), "%g", base);
		tidu_assess_input_set(in, keys[k], v);
		tidu_assess_input_set(in, "2025.revenue", "12000");
		tidu_assess_input_set(in, "employees", "12000"); /* rd_staff's share counts */
		a = run("rules-2022", in, 0, 0);
		snprintf(v, sizeof(v), "%g", base + 1 + (double)((seed >> 4) % 500));
		tidu_assess_input_set(in, keys[k], v);
		b = run("rules-2022", in, 0, 0);
		assert_true(b->tiers[0].score >= a->tiers[0].score);
		assert_true(b->tiers[1].score >= a->tiers[1].score);
		tidu_assessment_free(a);
		tidu_assessment_free(b);
		tidu_assess_input_free(in);
	}
}

static void expect_bad(const char *text, const char *message)
{
	tidu_packs *set = tidu_packs_new();

	assert_int_equal(tidu_packs_add(set, "bad.pack", text), TIDU_EINVAL);
	if (!strstr(tidu_error_message(), message))
		fail_msg("got '%s', wanted '%s'", tidu_error_message(), message);
	tidu_packs_free(set);
}

#define HEAD "pack x\nversion 1\nin_force 2026-01-01\nzh 标题\nen Title\n"

static void test_malformed_packs(void **state)
{
	char deep[4096];
	int i, n = 0;

	(void)state;
	expect_bad(HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest foo >= 1\n",
		   "rule pack bad.pack:12: unknown name 'foo'");
	expect_bad(HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest revenue >= 1\n",
		   "bad.pack:12: 'revenue' is a yearly figure");
	expect_bad(HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest st_award == \"gold\"\n",
		   "bad.pack:12: 'gold' is not a value of 'st_award'");
	expect_bad(HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest nope(1)\n",
		   "bad.pack:12: unknown function 'nope'");
	expect_bad(HEAD "tier 1\nzh 一\nen One\npass_score 60\ncategory c 0\nzh 丙\nen C\n"
		   "indicator i c 10\nzh 乙\nen I\nband >= 5 => 10\n",
		   "bad.pack:16: 'band' needs the indicator's 'value' above it");
	expect_bad(HEAD "tier 1\nzh 一\nen One\npass_score 60\ncategory c 0\nzh 丙\nen C\n"
		   "indicator i c 10\nzh 乙\nen I\nvalue Y\nband >= 5 => 11\n",
		   "bad.pack:17: 11 points is outside 0 to the indicator's maximum 10");
	expect_bad(HEAD "tier 2\nzh 二\nrequire a\nzh 甲\nen A\ntest Y > 1\n",
		   "bad.pack:6: tier 2 needs its name in 'zh' and 'en'");
	expect_bad("version 1\n", "bad.pack:1: the pack must start with 'pack ID'");
	expect_bad(HEAD "frobnicate\n", "bad.pack:6: unknown statement 'frobnicate'");
	expect_bad(HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest (Y > 1\n",
		   "bad.pack:12: '(' without its ')'");
	n = snprintf(deep, sizeof(deep), HEAD "tier 2\nzh 二\nen Two\nrequire a\nzh 甲\nen A\ntest ");
	for (i = 0; i < 200; i++)
		deep[n++] = '(';
	deep[n++] = 'Y';
	for (i = 0; i < 200; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	expect_bad(deep, "nested too deeply");
	expect_bad(HEAD "tier 3 from x\nzh 三\nen Three\n", "a tier cannot come from its own pack");
	/* Blanks at the end of a last line without a newline (a reader once looped on them). */
	expect_bad("   ", "the pack has no 'pack ID' line");
	expect_bad("pack x\nversion 1 \t", "the pack has no 'in_force' date");
	expect_bad("", "the pack has no 'pack ID' line");
}

static void test_what_if_validated(void **state)
{
	tidu_assess_input *in = firm(t1_base);

	(void)state;
	assert_int_equal(tidu_assess_input_set(in, "2025.rd_expense", "lots"), TIDU_EINVAL);
	assert_int_equal(tidu_assess_input_set(in, "nonsense", "1"), TIDU_EINVAL);
	assert_non_null(strstr(tidu_error_message(), "unknown field 'nonsense'"));
	assert_int_equal(tidu_assess_input_set(in, "digital_level", "9"), TIDU_EINVAL);
	tidu_assess_input_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packs),
		cmocka_unit_test(test_tier1_whole_firm),
		cmocka_unit_test(test_tier1_band_edges),
		cmocka_unit_test(test_tier1_floor_and_direct),
		cmocka_unit_test(test_missing_is_named_not_zero),
		cmocka_unit_test(test_tier2_basic_conditions_all_listed),
		cmocka_unit_test(test_tier3_2026_judgement),
		cmocka_unit_test(test_tier1_2026_uses_2022_table),
		cmocka_unit_test(test_property_monotone),
		cmocka_unit_test(test_malformed_packs),
		cmocka_unit_test(test_what_if_validated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
