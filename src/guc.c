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
char	   *cr_guc_server = NULL;
int			cr_guc_connect_timeout = 5000;
int			cr_guc_request_timeout = 30000;
int			cr_guc_retries = 2;
int			cr_guc_retry_ceiling = 10000;
int			cr_guc_max_response_kb = 10240;
bool		cr_guc_reuse_connections = true;
int			cr_guc_page_size = 1000;
int			cr_guc_max_concurrency = 8;
int			cr_guc_requests_per_second = 0;
bool		cr_guc_syncing = false;

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

	DefineCustomStringVariable("comms_resolve.server",
							   "Foreign server of the remote resolver.",
							   "A server of the comms_resolve foreign-data wrapper; its user mapping for the current user holds the credentials.",
							   &cr_guc_server,
							   "comms_api",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.connect_timeout",
							"Time allowed to connect to the Comms API.",
							"The server option connect_timeout_ms overrides it.",
							&cr_guc_connect_timeout,
							5000, 1, 3600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.request_timeout",
							"Time allowed for one request to the Comms API, connection included.",
							"The server option request_timeout_ms overrides it.",
							&cr_guc_request_timeout,
							30000, 1, 3600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.retries",
							"Retries of a request answered 429 or 503, or whose connection failed.",
							"The server option retries overrides it.",
							&cr_guc_retries,
							2, 0, 10,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.retry_ceiling",
							"Longest wait before a retry, whatever Retry-After asks.",
							"The server option retry_ceiling_ms overrides it.",
							&cr_guc_retry_ceiling,
							10000, 0, 3600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.max_response_size",
							"Largest response body accepted from the Comms API.",
							"The server option max_response_bytes overrides it.",
							&cr_guc_max_response_kb,
							10240, 1, 1048576,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("comms_resolve.reuse_connections",
							 "Keep the connection to the Comms API open between requests.",
							 "Off opens a new connection for every request.",
							 &cr_guc_reuse_connections,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.page_size",
							"Page size asked for when listing the account's senders and pools.",
							"0 lets the API choose (its default is 50).",
							&cr_guc_page_size,
							1000, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.max_concurrency",
							"Most requests resolve_many keeps in flight to the Comms API at once.",
							NULL,
							&cr_guc_max_concurrency,
							8, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("comms_resolve.requests_per_second",
							"Most requests resolve_many starts per second (0: no limit).",
							"Starts are paced evenly, retries included.",
							&cr_guc_requests_per_second,
							0, 0, 100000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	/* set by sync() for its own duration: see touch_updated_at() */
	DefineCustomBoolVariable("comms_resolve.syncing",
							 "Whether a sync is writing the inventory (set by sync itself).",
							 NULL,
							 &cr_guc_syncing,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("comms_resolve");
}
