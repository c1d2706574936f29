/*-------------------------------------------------------------------------
 *
 * fuzz_mhd.h
 *	  A stand-in libmicrohttpd connection for the emulator's fuzz targets.
 *
 * fuzz_mhd.c defines MHD_lookup_connection_value, MHD_get_connection_info
 * and MHD_queue_response; definitions in the executable take precedence
 * over libmicrohttpd's, so the emulator's code reads its query arguments
 * and headers from a struct MHD_Connection built here from fuzz input,
 * with no daemon and no socket.  Responses are still built and destroyed
 * by the real libmicrohttpd.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_MHD_H
#define FUZZ_MHD_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#define FUZZ_MAX_ARGS 32
#define FUZZ_MAX_HEADERS 16

struct MHD_Connection
{
	char	   *arg_name[FUZZ_MAX_ARGS];
	char	   *arg_value[FUZZ_MAX_ARGS];	/* NULL: "name" without '=' */
	int			n_args;
	char	   *hdr_name[FUZZ_MAX_HEADERS];
	char	   *hdr_value[FUZZ_MAX_HEADERS];
	int			n_headers;
	int64_t		number;			/* the socket context: a connection number */
	void	   *socket_context;
	int			queued;			/* MHD_queue_response calls */
	unsigned int status;		/* last queued status */
};

extern void fuzz_conn_init(struct MHD_Connection *c);
extern void fuzz_conn_free(struct MHD_Connection *c);

/*
 * Parse a query string (without '?') as libmicrohttpd does: '&'-separated
 * name[=value], percent-decoded; a decoded NUL ends the string.
 */
extern void fuzz_conn_parse_query(struct MHD_Connection *c, const char *q, size_t len);
extern void fuzz_conn_add_header(struct MHD_Connection *c, const char *name, size_t nlen,
								 const char *value, size_t vlen);

/* Percent-decode s[0..len) into a malloc'd string (cut at a decoded NUL). */
extern char *fuzz_unescape(const char *s, size_t len);

#endif							/* FUZZ_MHD_H */
