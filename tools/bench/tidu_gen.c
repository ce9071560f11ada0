/*
 * tidu_gen: writes N synthetic firms as a CSV file for `tidu firm import`
 * (demo data and benchmarks). Deterministic for a given seed. The codes are
 * valid USCCs of Zhengzhou districts; names, products and figures are
 * invented.
 *
 *   tidu_gen [--assess] N [SEED [DISTRICT]] > firms.csv
 *
 * With DISTRICT every firm is of that district (an officer's store files
 * firms of its own district only); the other values are the same.
 *
 * Without --assess the file has 14 columns (10 firm fields, 4 yearly
 * figures of 2024 and 2025), which the import benchmarks use. --assess
 * appends, after those same 14 columns with the same values, the other
 * inputs the rule packs read (schema/rules/): the remaining firm fields of
 * the assessment (IP, R&D institution, quality, awards, titles, platform
 * score, judgement answers) and three years (2023 to 2025) of revenue,
 * main revenue, R&D expense, net profit, assets, liabilities and equity
 * financing. These come from a second random stream, so the first 14
 * columns are byte for byte those of the run without --assess, and the
 * first K firms of N are the K firms of a run with N = K. Some cells are
 * left empty on purpose (about 1 in 20 of the balance sheet figures, a third
 * of the judgement answers), so that some tiers come out incomplete or
 * undecided, as with real surveys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/uscc.h"

static uint64_t state, state2;

static uint32_t xorshift(uint64_t *st)
{
	/* xorshift64*: good enough for synthetic data, and reproducible. */
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return (uint32_t)((*st * 2685821657736338717ULL) >> 32);
}

static uint32_t next_rand(void)
{
	return xorshift(&state);
}

/* The stream of --assess's columns, apart from the first 14 columns' one. */
static uint32_t rand2(uint32_t n)
{
	return xorshift(&state2) % n;
}

static const char *const districts[] = {
	"410102", "410103", "410104", "410105", "410106", "410108", "410122",
	"410181", "410182", "410183", "410184", "410185", "410171", "410172", "410173",
};
static const char *const prefixes[] = {
	"郑州", "河南", "中原", "嵩山", "黄河", "金水", "航空港", "高新", "豫", "商都",
};
static const char *const cores[] = {
	"智能传感", "超硬材料", "精密机械", "新能源", "生物医药", "数控装备", "电子信息",
	"新材料", "环保科技", "食品科技", "铝业", "光电", "软件", "汽车零部件", "检测技术",
};
static const char *const suffixes[] = {
	"科技有限公司", "股份有限公司", "制造有限公司", "技术有限公司", "实业有限公司",
};
static const char *const products[] = {
	"MEMS 压力传感器", "金刚石微粉", "数控刀具", "锂电池隔膜", "体外诊断试剂",
	"工业机器人减速器", "车规级芯片封装", "铝合金型材", "污水处理膜", "速冻食品生产线",
};
static const char *const fields[] = {"key_gap", "six_basics", "strategic_emerging", "other"};
static const char *const institutions[] = {"none", "below_city", "city", "provincial", "national"};
static const char *const awards[] = {
	"none", "none", "none", "none", "provincial", "provincial_top3", "national",
	"national_top3", "national_top5",
};
static const char *const yes_no[] = {"no", "yes"};
static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* A figure, or an empty cell one time in `blank` (0: never). */
static void put_fig(double v, uint32_t blank)
{
	if (blank && rand2(blank) == 0)
		fputs(",", stdout);
	else
		printf(",%.1f", v);
}

/*
 * The --assess columns of one firm, consistent with its first columns:
 * ip_class1_high_value <= ip_class1, main revenue <= revenue.
 */
static void put_assess(int ip1, double rev24, double rev25)
{
	double rev[3], share;
	int k, y;

	printf(",%d,%u,%s,%u", ip1 ? (int)rand2((uint32_t)ip1 + 1) / 2 : 0, rand2(20),
	       institutions[rand2(N_(institutions))], rand2(7));
	for (k = 0; k < 4; k++) /* quality_award, iso_cert, own_brand, standards_work */
		printf(",%s", yes_no[rand2(3) != 0]);
	printf(",%.1f,%u,%.1f,%s,%s", rand2(300) / 10.0, 1 + rand2(200), 30 + rand2(700) / 10.0,
	       awards[rand2(N_(awards))], yes_no[rand2(2)]);
	if (rand2(4) == 0) /* chuangke_rank, chuangke_year */
		printf(",%u,%u", 1 + rand2(1000), 2018 + rand2(8));
	else
		printf(",0,");
	printf(",%u,%u", rand2(4), rand2(16)); /* tier, special_points */
	for (k = 0; k < 3; k++) { /* judge.*: a third unanswered */
		uint32_t v = rand2(3);

		printf(",%s", v == 2 ? "" : yes_no[v]);
	}
	rev[1] = rev24;
	rev[2] = rev25;
	rev[0] = rev24 * (0.85 + rand2(300) / 1000.0);
	share = 0.6 + rand2(350) / 1000.0;
	printf(",%.1f,%.1f,%.1f,%.1f,%.1f", rev[0], rev[0] * share,
	       rev[0] * rand2(80) / 1000.0, rev24 * (share + rand2(30) / 1000.0),
	       rev24 * rand2(80) / 1000.0);
	for (y = 0; y < 3; y++) {
		double assets = rev[y] * (0.8 + rand2(1200) / 1000.0);

		put_fig(rev[y] * (-0.05 + rand2(200) / 1000.0), 20); /* net_profit */
		put_fig(assets, 20);
		put_fig(assets * (0.2 + rand2(700) / 1000.0), 20);
		put_fig(rand2(5) ? 0 : rand2(10000), 0); /* equity_financing */
	}
}

int main(int argc, char **argv)
{
	long n, i;
	char code[19];
	int assess = 0;

	if (argc > 1 && !strcmp(argv[1], "--assess")) {
		assess = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: tidu_gen [--assess] N [SEED [DISTRICT]] > firms.csv\n");
		return 2;
	}
	state = argc > 2 ? strtoull(argv[2], NULL, 10) * 2654435761ULL + 1 : 88172645463325252ULL;
	state2 = state ^ 0x9E3779B97F4A7C15ULL;
	printf("uscc,name,district,main_product,product_field,employees,rd_staff,"
	       "ip_class1,ip_class1_self,niche_since,2024.revenue,2025.revenue,"
	       "2025.main_revenue,2025.rd_expense");
	if (assess)
		printf(",ip_class1_high_value,ip_class2,rd_institution,digital_level,"
		       "quality_award,iso_cert,own_brand,standards_work,niche_share,niche_rank,"
		       "platform_score,st_award,high_tech_title,chuangke_rank,chuangke_year,tier,"
		       "special_points,judge.chain_role,judge.field_fit,judge.niche_top,"
		       "2023.revenue,2023.main_revenue,2023.rd_expense,2024.main_revenue,"
		       "2024.rd_expense,2023.net_profit,2023.total_assets,2023.total_liabilities,"
		       "2023.equity_financing,2024.net_profit,2024.total_assets,"
		       "2024.total_liabilities,2024.equity_financing,2025.net_profit,"
		       "2025.total_assets,2025.total_liabilities,2025.equity_financing");
	printf("\n");
	for (i = 0; i < n; i++) {
		const char *d = districts[next_rand() % N_(districts)];

		if (argc > 3)
			d = argv[3];
		int emp = 20 + (int)(next_rand() % 980), ip1 = (int)(next_rand() % 12);
		double rev24 = 500 + next_rand() % 200000 / 10.0;
		double rev25 = rev24 * (0.9 + (next_rand() % 400) / 1000.0);
		int j;

		/*
		 * 91 + region + "MA" + 7 serial characters + check character;
		 * the last 6 serial characters are i in base 31, so codes are unique.
		 */
		snprintf(code, sizeof(code), "91%sMA", d);
		{
			long v = i;

			for (j = 16; j >= 11; j--) {
				code[j] = alphabet[v % 31];
				v /= 31;
			}
			code[10] = alphabet[next_rand() % 31];
		}
		code[17] = tidu_uscc_check_char(code);
		code[18] = '\0';
		printf("%s,%s%s%s,%s,%s,%s,%d,%d,%d,%d,%d,%.1f,%.1f,%.1f,%.1f", code,
		       prefixes[next_rand() % N_(prefixes)], cores[next_rand() % N_(cores)],
		       suffixes[next_rand() % N_(suffixes)], d,
		       products[next_rand() % N_(products)], fields[next_rand() % N_(fields)],
		       emp, emp / (3 + (int)(next_rand() % 10)), ip1,
		       ip1 ? (int)(next_rand() % (unsigned)(ip1 + 1)) : 0,
		       1995 + (int)(next_rand() % 30), rev24, rev25, rev25 * 0.85,
		       rev25 * (next_rand() % 80) / 1000.0);
		if (assess)
			put_assess(ip1, rev24, rev25);
		printf("\n");
	}
	return 0;
}
