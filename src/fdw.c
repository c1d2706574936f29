/*-------------------------------------------------------------------------
 *
 * fdw.c
 *	  The foreign-data wrapper comms_resolve (a validator, no handler): it
 *	  holds the Comms API endpoint in a server and the credentials in user
 *	  mappings, and turns both into the HTTP client's configuration.
 *
 * Options:
 *	 server:		base_url (required, http or https, no user name, password,
 *					query or fragment), connect_timeout_ms, request_timeout_ms,
 *					retries, retry_ceiling_ms, max_response_bytes, ca_file,
 *					verify_tls
 *	 user mapping:	account_id + auth_token, or api_key + api_key_secret
 *					(exactly one complete pair)
 *	 wrapper:		none
 * Secrets are accepted only in user mappings, which PostgreSQL shows to
 * their own user and the server owner only (pg_user_mappings).  Turning
 * off TLS verification and naming a CA file of the server's machine take
 * a superuser, even for a role that may create servers of this wrapper.  No
 * message here ever includes an option's value when that option is a
 * secret.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "comms_resolve.h"

typedef enum OptKind
{
	OPT_URL,
	OPT_INT,
	OPT_BOOL,
	OPT_PATH,
	OPT_SECRET,
	OPT_ID
} OptKind;

typedef struct CrOption
{
	const char *name;
	Oid			catalog;
	OptKind		kind;
	long		min;
	long		max;
} CrOption;

static const CrOption options[] = {
	{"base_url", ForeignServerRelationId, OPT_URL, 0, 0},
	{"connect_timeout_ms", ForeignServerRelationId, OPT_INT, 1, 3600000},
	{"request_timeout_ms", ForeignServerRelationId, OPT_INT, 1, 3600000},
	{"retries", ForeignServerRelationId, OPT_INT, 0, 10},
	{"retry_ceiling_ms", ForeignServerRelationId, OPT_INT, 0, 3600000},
	{"max_response_bytes", ForeignServerRelationId, OPT_INT, 1024, 1073741824},
	{"ca_file", ForeignServerRelationId, OPT_PATH, 0, 0},
	{"verify_tls", ForeignServerRelationId, OPT_BOOL, 0, 0},
	{"account_id", UserMappingRelationId, OPT_ID, 0, 0},
	{"auth_token", UserMappingRelationId, OPT_SECRET, 0, 0},
	{"api_key", UserMappingRelationId, OPT_ID, 0, 0},
	{"api_key_secret", UserMappingRelationId, OPT_SECRET, 0, 0},
	{NULL, InvalidOid, OPT_INT, 0, 0}
};

static const char *
catalog_name(Oid catalog)
{
	switch (catalog)
	{
		case ForeignDataWrapperRelationId:
			return "foreign-data wrapper";
		case ForeignServerRelationId:
			return "server";
		case UserMappingRelationId:
			return "user mapping";
		case ForeignTableRelationId:
			return "foreign table";
		default:
			return "object";
	}
}

static const CrOption *
find_option(const char *name)
{
	for (const CrOption *o = options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Check a URL: http or https, a host, nothing secret or ambiguous in it. */
static void
check_url(const char *value)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *host = NULL,
			   *user = NULL,
			   *password = NULL,
			   *query = NULL,
			   *fragment = NULL;
	const char *problem = NULL;

	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK)
		problem = "it is not a valid absolute URL";
	else
	{
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_USER, &user, 0);
		curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
		curl_url_get(u, CURLUPART_QUERY, &query, 0);
		curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0);
		if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
			problem = "its scheme is not http or https";
		else if (host == NULL || host[0] == '\0')
			problem = "it has no host";
		else if (user || password)
			problem = "it contains credentials, which belong in a user mapping";
		else if (query || fragment)
			problem = "it has a query or fragment";
		else if (value[strlen(value) - 1] == '/')
			problem = "it ends with a slash";
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_free(query);
	curl_free(fragment);
	curl_url_cleanup(u);
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid base_url: %s", problem),
				 errhint("Use the API's base URL, such as https://comms.twilio.com/v1.")));
}

PG_FUNCTION_INFO_V1(comms_resolve_fdw_validator);

/*
 * fdw_validator(options text[], catalog oid): the validator of the
 * comms_resolve foreign-data wrapper.
 */
Datum
comms_resolve_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *opts = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;
	bool		has_url = false;
	bool		has[4] = {false, false, false, false};	/* account_id, auth_token, api_key, api_key_secret */

	foreach(lc, opts)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const CrOption *o = find_option(def->defname);
		char	   *value;

		if (o == NULL || o->catalog != catalog)
		{
			if (o && (o->kind == OPT_SECRET || o->kind == OPT_ID))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("option \"%s\" belongs in a user mapping, not a %s",
								def->defname, catalog_name(catalog)),
						 errhint("Credentials go only in CREATE USER MAPPING ... SERVER comms_api OPTIONS (...).")));
			if (catalog != ForeignServerRelationId && catalog != UserMappingRelationId)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 catalog == ForeignDataWrapperRelationId ?
						 errmsg("the comms_resolve foreign-data wrapper takes no options") :
						 errmsg("a %s of the comms_resolve foreign-data wrapper takes no options",
								catalog_name(catalog)),
						 errhint("Options go on the server (endpoint and limits) and on user mappings (credentials).")));
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for a %s of the comms_resolve foreign-data wrapper",
							def->defname, catalog_name(catalog)),
					 catalog == ForeignServerRelationId ?
					 errhint("Server options are base_url, connect_timeout_ms, request_timeout_ms, retries, retry_ceiling_ms, max_response_bytes, ca_file and verify_tls.") :
					 errhint("User mapping options are account_id and auth_token, or api_key and api_key_secret.")));
		}
		value = defGetString(def);
		switch (o->kind)
		{
			case OPT_URL:
				check_url(value);
				has_url = true;
				break;
			case OPT_INT:
				{
					char	   *end;
					long		v;

					errno = 0;
					v = strtol(value, &end, 10);
					if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max)
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, value),
								 errhint("It is an integer from %ld to %ld.", o->min, o->max)));
					break;
				}
			case OPT_BOOL:
				{
					bool		b;

					if (!parse_bool(value, &b))
						ereport(ERROR,
								(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
								 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, value),
								 errhint("It is a boolean, such as true or false.")));
					/* verify_tls: only a superuser may turn verification off */
					if (!b && !superuser())
						ereport(ERROR,
								(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
								 errmsg("only a superuser can turn off TLS verification")));
					break;
				}
			case OPT_PATH:
				if (value[0] != '/')
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("option \"%s\" must be an absolute path", def->defname)));
				/* a file of the server's machine: superusers only, as COPY FROM a file */
				if (!superuser())
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("only a superuser can set option \"%s\"", def->defname)));
				break;
			case OPT_ID:
			case OPT_SECRET:
				/* never quote the value: it may be a secret */
				if (value[0] == '\0')
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("option \"%s\" must not be empty", def->defname)));
				/* a Basic-auth user name cannot contain a colon (RFC 7617) */
				if (o->kind == OPT_ID && strchr(value, ':'))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("option \"%s\" must not contain a colon", def->defname)));
				break;
		}
		if (strcmp(def->defname, "account_id") == 0)
			has[0] = true;
		else if (strcmp(def->defname, "auth_token") == 0)
			has[1] = true;
		else if (strcmp(def->defname, "api_key") == 0)
			has[2] = true;
		else if (strcmp(def->defname, "api_key_secret") == 0)
			has[3] = true;
	}

	if (catalog == ForeignServerRelationId && !has_url)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a server of the comms_resolve foreign-data wrapper needs the option base_url")));
	if (catalog == UserMappingRelationId)
	{
		bool		pair1 = has[0] || has[1];
		bool		pair2 = has[2] || has[3];

		if (has[0] != has[1])
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("user mapping needs both account_id and auth_token")));
		if (has[2] != has[3])
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("user mapping needs both api_key and api_key_secret")));
		if (pair1 && pair2)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("user mapping has both an account_id and an api_key"),
					 errhint("Give one credential pair: account_id and auth_token, or api_key and api_key_secret.")));
	}
	PG_RETURN_VOID();
}

/* The options of the user mapping of user on server, or NIL when none. */
static List *
user_mapping_options(Oid userid, Oid serverid, bool *found)
{
	HeapTuple	tp;
	Datum		datum;
	bool		isnull;
	List	   *result = NIL;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid), ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid), ObjectIdGetDatum(serverid));
	*found = HeapTupleIsValid(tp);
	if (!*found)
		return NIL;
	datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp, Anum_pg_user_mapping_umoptions, &isnull);
	if (!isnull)
		result = untransformRelOptions(datum);
	ReleaseSysCache(tp);
	return result;
}

static long
int_option(List *opts, const char *name, long dflt)
{
	ListCell   *lc;

	foreach(lc, opts)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return strtol(defGetString(def), NULL, 10);
	}
	return dflt;
}

static char *
string_option(List *opts, const char *name)
{
	ListCell   *lc;

	foreach(lc, opts)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/*
 * The client configuration for the server named by comms_resolve.server,
 * as the current user: the server must exist and belong to our wrapper,
 * the user needs USAGE on it and a user mapping with credentials.
 */
void
cr_remote_config(CrHttpConfig *cfg)
{
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	List	   *um;
	bool		found;
	char	   *v;
	AclResult	aclresult;
	Oid			userid = GetUserId();

	memset(cfg, 0, sizeof(*cfg));
	server = GetForeignServerByName(cr_guc_server, true);
	if (server == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("server \"%s\" does not exist", cr_guc_server),
				 errhint("The setting comms_resolve.server names the server of the remote resolver; the extension creates \"comms_api\".")));
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "comms_resolve") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use the comms_resolve foreign-data wrapper", server->servername)));
	aclresult = pg_foreign_server_aclcheck(server->serverid, userid, ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	um = user_mapping_options(userid, server->serverid, &found);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no user mapping for role \"%s\" on server \"%s\"",
						GetUserNameFromId(userid, false), server->servername),
				 errhint("CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (account_id '...', auth_token '...');",
						 quote_identifier(server->servername))));
	if ((v = string_option(um, "account_id")) != NULL)
	{
		cfg->user = v;
		cfg->password = string_option(um, "auth_token");
	}
	else if ((v = string_option(um, "api_key")) != NULL)
	{
		cfg->user = v;
		cfg->password = string_option(um, "api_key_secret");
	}
	if (cfg->user == NULL || cfg->password == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("user mapping for role \"%s\" on server \"%s\" has no credentials",
						GetUserNameFromId(userid, false), server->servername),
				 errhint("Give account_id and auth_token, or api_key and api_key_secret.")));

	cfg->server_name = server->servername;
	cfg->base_url = string_option(server->options, "base_url");
	cfg->connect_timeout_ms = int_option(server->options, "connect_timeout_ms", cr_guc_connect_timeout);
	cfg->request_timeout_ms = int_option(server->options, "request_timeout_ms", cr_guc_request_timeout);
	cfg->retries = (int) int_option(server->options, "retries", cr_guc_retries);
	cfg->retry_ceiling_ms = int_option(server->options, "retry_ceiling_ms", cr_guc_retry_ceiling);
	cfg->max_response_bytes = (size_t) int_option(server->options, "max_response_bytes",
												  (long) cr_guc_max_response_kb * 1024L);
	cfg->ca_file = string_option(server->options, "ca_file");
	cfg->verify_tls = true;
	if ((v = string_option(server->options, "verify_tls")) != NULL)
		(void) parse_bool(v, &cfg->verify_tls);
}
