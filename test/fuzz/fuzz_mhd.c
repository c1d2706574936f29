/*-------------------------------------------------------------------------
 *
 * fuzz_mhd.c
 *	  The stand-in libmicrohttpd connection of the emulator's fuzz targets
 *	  (see fuzz_mhd.h).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "fuzz_mhd.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
fuzz_conn_init(struct MHD_Connection *c)
{
	memset(c, 0, sizeof(*c));
	c->number = 1;
	c->socket_context = &c->number;
}

void
fuzz_conn_free(struct MHD_Connection *c)
{
	for (int i = 0; i < c->n_args; i++)
	{
		free(c->arg_name[i]);
		free(c->arg_value[i]);
	}
	for (int i = 0; i < c->n_headers; i++)
	{
		free(c->hdr_name[i]);
		free(c->hdr_value[i]);
	}
	c->n_args = c->n_headers = 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
fuzz_unescape(const char *s, size_t len)
{
	char	   *out = malloc(len + 1);
	size_t		o = 0;

	if (out == NULL)
		abort();
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0)
		{
			out[o++] = (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

void
fuzz_conn_parse_query(struct MHD_Connection *c, const char *q, size_t len)
{
	size_t		i = 0;

	while (i <= len && c->n_args < FUZZ_MAX_ARGS)
	{
		const char *amp = memchr(q + i, '&', len - i);
		size_t		end = amp ? (size_t) (amp - q) : len;
		const char *eq = memchr(q + i, '=', end - i);

		if (end > i)
		{
			if (eq)
			{
				c->arg_name[c->n_args] = fuzz_unescape(q + i, (size_t) (eq - (q + i)));
				c->arg_value[c->n_args] = fuzz_unescape(eq + 1, end - (size_t) (eq + 1 - q));
			}
			else
			{
				c->arg_name[c->n_args] = fuzz_unescape(q + i, end - i);
				c->arg_value[c->n_args] = NULL;
			}
			c->n_args++;
		}
		i = end + 1;
	}
}

void
fuzz_conn_add_header(struct MHD_Connection *c, const char *name, size_t nlen,
					 const char *value, size_t vlen)
{
	if (c->n_headers >= FUZZ_MAX_HEADERS)
		return;
	c->hdr_name[c->n_headers] = strndup(name, nlen);
	c->hdr_value[c->n_headers] = strndup(value, vlen);
	if (c->hdr_name[c->n_headers] == NULL || c->hdr_value[c->n_headers] == NULL)
		abort();
	c->n_headers++;
}

/* ---------------------------------------------------------------------
 * The libmicrohttpd functions the emulator calls on a connection
 * ---------------------------------------------------------------------
 */
const char *
MHD_lookup_connection_value(struct MHD_Connection *connection,
							enum MHD_ValueKind kind, const char *key)
{
	if (connection == NULL || key == NULL)
		return NULL;
	if (kind & MHD_GET_ARGUMENT_KIND)
		for (int i = 0; i < connection->n_args; i++)
			if (strcmp(connection->arg_name[i], key) == 0)
				return connection->arg_value[i];
	if (kind & MHD_HEADER_KIND)
		for (int i = 0; i < connection->n_headers; i++)
			if (strcasecmp(connection->hdr_name[i], key) == 0)
				return connection->hdr_value[i];
	return NULL;
}

const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *connection,
						enum MHD_ConnectionInfoType info_type,...)
{
	static union MHD_ConnectionInfo info;

	if (connection == NULL || info_type != MHD_CONNECTION_INFO_SOCKET_CONTEXT)
		return NULL;
	info.socket_context = connection->socket_context;
	return &info;
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
				   struct MHD_Response *response)
{
	if (connection == NULL || response == NULL)
		return MHD_NO;
	connection->queued++;
	connection->status = status_code;
	return MHD_YES;
}
