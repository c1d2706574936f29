/*
 * test_main.c
 *	  Runs every unit test of the resolution core as one cmocka group, so
 *	  the run ends with a single "[  PASSED  ] N test(s)." or "[  FAILED  ]"
 *	  summary.  Exit status: 0 when all pass, 1 otherwise.
 */
#include "test_common.h"

#include <stdlib.h>

int
main(void)
{
	const struct
	{
		const struct CMUnitTest *tests;
		size_t		n;
	}			parts[] = {
		{validate_tests, validate_tests_count},
		{request_tests, request_tests_count},
		{rank_tests, rank_tests_count},
	};
	size_t		total = 0,
				k = 0;
	struct CMUnitTest *all;
	int			failed;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		total += parts[i].n;
	all = malloc(total * sizeof(*all));
	if (all == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (size_t j = 0; j < parts[i].n; j++)
			all[k++] = parts[i].tests[j];
	failed = _cmocka_run_group_tests("comms_resolve_core", all, total, NULL, NULL);
	free(all);
	return failed == 0 ? 0 : 1;
}
