/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every setting of comms_resolve, defined in one place.
 *
 * All names start with "comms_resolve.", a prefix reserved once defined.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "comms_resolve.h"

int			cr_guc_resolver = CR_RESOLVER_LOCAL;
int			cr_guc_max_results = 10;

static const struct config_enum_entry resolver_options[] = {
	{"local", CR_RESOLVER_LOCAL, false},
	{"remote", CR_RESOLVER_REMOTE, false},
	{NULL, 0, false}
};

void
cr_guc_init(void)
{
	DefineCustomEnumVariable("comms_resolve.resolver",
							 "Resolver used when a function's resolver argument is NULL.",
							 "local reads the inventory tables of this database; remote calls the Comms API.",
							 &cr_guc_resolver,
							 CR_RESOLVER_LOCAL,
							 resolver_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.max_results",
							"Maximum number of (sender, recipient) pairs a resolution returns.",
							"The Comms API returns at most 10.",
							&cr_guc_max_results,
							10,
							1, CR_MAX_RESULTS_LIMIT,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("comms_resolve");
}
