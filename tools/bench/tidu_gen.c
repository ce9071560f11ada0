/*
 * tidu_gen: writes N synthetic firms as a CSV file for `tidu firm import`
 * (demo data and benchmarks). Deterministic for a given seed. The codes are
 * valid USCCs of Zhengzhou districts; names, products and figures are
 * invented.
 *
 *   tidu_gen N [SEED [DISTRICT]] > firms.csv
 *
 * With DISTRICT every firm is of that district (an officer's store files
 * firms of its own district only); the other values are the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidu/uscc.h"

static uint64_t state;

static uint32_t next_rand(void)
{
	/* xorshift64*: good enough for synthetic data, and reproducible. */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (uint32_t)((state * 2685821657736338717ULL) >> 32);
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
static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

#define N_(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv)
{
	long n, i;
	char code[19];

	if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: tidu_gen N [SEED [DISTRICT]] > firms.csv\n");
		return 2;
	}
	state = argc > 2 ? strtoull(argv[2], NULL, 10) * 2654435761ULL + 1 : 88172645463325252ULL;
	printf("uscc,name,district,main_product,product_field,employees,rd_staff,"
	       "ip_class1,ip_class1_self,niche_since,2024.revenue,2025.revenue,"
	       "2025.main_revenue,2025.rd_expense\n");
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
		printf("%s,%s%s%s,%s,%s,%s,%d,%d,%d,%d,%d,%.1f,%.1f,%.1f,%.1f\n", code,
		       prefixes[next_rand() % N_(prefixes)], cores[next_rand() % N_(cores)],
		       suffixes[next_rand() % N_(suffixes)], d,
		       products[next_rand() % N_(products)], fields[next_rand() % N_(fields)],
		       emp, emp / (3 + (int)(next_rand() % 10)), ip1,
		       ip1 ? (int)(next_rand() % (unsigned)(ip1 + 1)) : 0,
		       1995 + (int)(next_rand() % 30), rev24, rev25, rev25 * 0.85,
		       rev25 * (next_rand() % 80) / 1000.0);
	}
	return 0;
}
