/*-------------------------------------------------------------------------
 *
 * cr_core.h
 *	  The resolution core of comms_resolve: input parsing and validation,
 *	  calling codes, the sticky hash and ranking, in plain C99.
 *
 * Nothing here depends on PostgreSQL, so the same code serves the SQL
 * functions, the unit tests, the fuzz targets and the API emulator.
 *
 * Invariants a caller relies on:
 * - The core never allocates.  Parsed requests point into the caller's
 *	 input (cr_jv strings); the caller keeps that input alive for as long as
 *	 it uses the cr_request.  Fixed limits (CR_MAX_RECIPIENTS, five sender
 *	 channels) bound every array.
 * - Every failure is reported through a cr_error with a kind the caller maps
 *	 to its own error model (an SQLSTATE in PostgreSQL, an HTTP 400 body in
 *	 the emulator), a primary message, the API-style context path of the
 *	 offending element and an optional hint.  Messages quote at most a short,
 *	 UTF-8-safe prefix of user input, so they stay small for hostile input.
 * - Strings are UTF-8 byte ranges with explicit lengths; they need not be
 *	 NUL-terminated.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_CORE_H
#define CR_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_MAX_RECIPIENTS	100
#define CR_MAX_PUSH_CHARS	256
#define CR_MAX_EMAIL_OCTETS 254
#define CR_MAX_EMAIL_LOCAL	64
#define CR_MAX_RESULTS_LIMIT 1000

/*
 * Sender channels, numbered in the default priority order of sql.md 4.3
 * (RCS, WHATSAPP, SMS, EMAIL, PUSH), so enum order is default order.
 */
typedef enum cr_sender_channel
{
	CR_SCH_RCS = 0,
	CR_SCH_WHATSAPP,
	CR_SCH_SMS,
	CR_SCH_EMAIL,
	CR_SCH_PUSH,
	CR_SCH_COUNT
} cr_sender_channel;

typedef enum cr_recipient_channel
{
	CR_RCH_PHONE = 0,
	CR_RCH_EMAIL,
	CR_RCH_WHATSAPP,
	CR_RCH_PUSH,
	CR_RCH_COUNT
} cr_recipient_channel;

/* ---------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------
 */
typedef enum cr_errkind
{
	CR_OK = 0,
	CR_ERR_INVALID,				/* SQLSTATE 22023, HTTP 400 */
	CR_ERR_UNDEFINED,			/* SQLSTATE 42704, HTTP 404 */
	CR_ERR_UNSUPPORTED			/* SQLSTATE 0A000 */
} cr_errkind;

typedef struct cr_error
{
	cr_errkind	kind;
	char		message[256];	/* primary message, lower case, no period */
	char		context[96];	/* "$.recipientAddresses[2].address", or "" */
	char		hint[192];		/* full sentence, or "" */
} cr_error;

/* Set *err and return false; printf-style message. */
extern bool cr_fail(cr_error *err, cr_errkind kind, const char *context,
					const char *hint, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

/*
 * Write a quoted-safe excerpt of s into buf: at most max_chars characters,
 * cut on a UTF-8 boundary, with "..." appended when cut.  Returns buf.
 */
extern char *cr_excerpt(char *buf, size_t bufsize, const char *s, size_t len,
						size_t max_chars);

/* ---------------------------------------------------------------------
 * A minimal JSON value tree, built by the caller from its own JSON
 * representation (jsonb in PostgreSQL, json-c in the emulator).
 *
 * Containers carry their true element count in n and the converted
 * elements in items/members[0 .. n_loaded).  A caller may stop converting
 * early (n_loaded < n) for huge or deep input: the core's parsers reject
 * any valid-looking container long before they would need the rest, and
 * treat a container converted with n_loaded < n as too large.
 * ---------------------------------------------------------------------
 */
typedef enum cr_jv_type
{
	CR_JV_NULL = 0,
	CR_JV_BOOL,
	CR_JV_NUMBER,
	CR_JV_STRING,
	CR_JV_ARRAY,
	CR_JV_OBJECT
} cr_jv_type;

typedef struct cr_jv cr_jv;

typedef struct cr_jv_member
{
	const char *key;
	size_t		key_len;
	const cr_jv *value;
} cr_jv_member;

struct cr_jv
{
	cr_jv_type	type;
	bool		b;				/* CR_JV_BOOL */
	const char *s;				/* CR_JV_STRING: bytes; CR_JV_NUMBER: its text */
	size_t		len;
	size_t		n;				/* containers: true element count */
	size_t		n_loaded;		/* containers: converted elements */
	const cr_jv *const *items;	/* CR_JV_ARRAY */
	const cr_jv_member *members;	/* CR_JV_OBJECT */
};

/* Member lookup by key; NULL when absent (or not converted). */
extern const cr_jv *cr_jv_get(const cr_jv *obj, const char *key);
extern const char *cr_jv_type_name(cr_jv_type type);

/*
 * Parse the text of a JSON number.  Returns true when it is an integer
 * (fraction zero, any exponent) and fits in int64, storing it in *out;
 * *integral tells whether it was integral at all.
 */
extern bool cr_number_to_int64(const char *s, size_t len, bool *integral,
							   int64_t *out);

/* ---------------------------------------------------------------------
 * Names, identifiers and address checks
 * ---------------------------------------------------------------------
 */
extern const char *cr_sender_channel_name(cr_sender_channel ch);
extern const char *cr_recipient_channel_name(cr_recipient_channel ch);
/* Exact, upper-case match; -1 when unknown. */
extern int	cr_sender_channel_from_name(const char *s, size_t len);
extern int	cr_recipient_channel_from_name(const char *s, size_t len);
/* Can a sender of channel sc reach a recipient of channel rc? */
extern bool cr_channel_reaches(cr_sender_channel sc, cr_recipient_channel rc);

/* '+' then 2..15 ASCII digits, the first not '0'. */
extern bool cr_is_e164(const char *s, size_t len);
/* The syntax check of sql.md 4.1. */
extern bool cr_is_email(const char *s, size_t len);
/*
 * Decode the UTF-8 character at s[*i], advancing *i; -1 (and one byte) for
 * malformed input.
 */
extern long cr_utf8_decode(const char *s, size_t len, size_t *i);
/* Count of UTF-8 characters (lead bytes) in s. */
extern size_t cr_utf8_chars(const char *s, size_t len);

/*
 * TypeID with the given prefix: prefix '_' [0-7] then 25..34 characters of
 * the lower-case Crockford alphabet (no i, l, o, u), whole string.
 */
extern bool cr_is_typeid(const char *prefix, const char *s, size_t len);
#define CR_SENDER_PREFIX "comms_sender"
#define CR_POOL_PREFIX "comms_senderpool"

/*
 * Encode 16 bytes (a UUID, big-endian) as the 26-character TypeID suffix.
 * out must hold 27 bytes; it is NUL-terminated.
 */
extern void cr_typeid_suffix(const uint8_t uuid[16], char out[27]);
/* A valid TypeID prefix: 1..63 of [a-z_], starting and ending with a letter. */
extern bool cr_is_typeid_prefix(const char *s, size_t len);

/* ---------------------------------------------------------------------
 * Calling codes (ITU-T E.164), from data/calling-codes.tsv
 * ---------------------------------------------------------------------
 */

/*
 * The assigned calling code that prefixes an E.164 number ("+14155552671"
 * gives 1), or 0 when the number is not E.164 or starts with no assigned
 * code.  *code_digits receives the code's length in digits (0 when none).
 */
extern int	cr_calling_code(const char *s, size_t len, int *code_digits);
/* Regions of a code ("US,AG,..."), or NULL for an unassigned code. */
extern const char *cr_calling_code_regions(int code);
extern int	cr_calling_code_count(void);

/*
 * Geographic key of an address: the calling code, and for code 1 the
 * three-digit area code that follows it (area < 0 when there is none).
 */
typedef struct cr_geo
{
	int			code;			/* 0: no assigned code / not E.164 */
	int			area;			/* code 1 only: 0..999, else -1 */
} cr_geo;

extern cr_geo cr_geo_of(const char *s, size_t len);

/*
 * Geographic match of a sender to a recipient, larger is better:
 * 2 same code 1 and same area code, 1 same calling code, 0 otherwise or
 * not applicable (see sql.md 4.4).
 */
extern int	cr_geo_match(cr_geo sender, cr_geo recipient);

/* ---------------------------------------------------------------------
 * The sticky score (sql.md 4.4): FNV-1a 64 over address '|' sender id,
 * then the MurmurHash3 64-bit finaliser.  Larger is better.
 * ---------------------------------------------------------------------
 */
#define CR_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define CR_FNV_PRIME UINT64_C(0x100000001b3)

static inline uint64_t
cr_fnv1a_update(uint64_t h, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;

	for (size_t i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= CR_FNV_PRIME;
	}
	return h;
}

static inline uint64_t
cr_fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

extern uint64_t cr_sticky_score(const char *address, size_t address_len,
								const char *sender_id, size_t sender_id_len);

/* ---------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------
 */
typedef struct cr_recipient
{
	const char *address;		/* as returned in to_address */
	size_t		len;
	cr_recipient_channel channel;
	int			position;		/* index of first occurrence in the input */
	cr_geo		geo;			/* PHONE and WHATSAPP only; else {0,-1} */
	uint64_t	hash_prefix;	/* FNV-1a state after address '|' */
} cr_recipient;

typedef struct cr_request
{
	int			n_recipients;	/* distinct recipients, in input order */
	cr_recipient recipients[CR_MAX_RECIPIENTS];

	bool		has_filter;
	unsigned	filter_mask;	/* bit per cr_sender_channel */

	unsigned	listed_mask;	/* channels with an explicit priority */
	int64_t		listed_priority[CR_SCH_COUNT];
	int64_t		max_listed;		/* -1 when none listed */
} cr_request;

extern void cr_request_init(cr_request *req);

/*
 * Parse a recipients array (sql.md 4.1) into req.  path is the context
 * prefix used in errors, normally "$.recipientAddresses".
 */
extern bool cr_parse_recipients(const cr_jv *v, const char *path,
								cr_request *req, cr_error *err);

/*
 * Parse channel controls; v NULL or JSON null means absent.  path is
 * normally "$.channels".
 */
extern bool cr_parse_channels(const cr_jv *v, const char *path,
							  cr_request *req, cr_error *err);

/* Is s, len a well-formed pool id?  Fills err (22023) when not. */
extern bool cr_check_pool_id(const char *s, size_t len, const char *path,
							 cr_error *err);

/*
 * Request form B: the API's senderAddresses object.  On success *channel
 * and address, address_len identify the inventory sender to use.  The push
 * credential form sets is_push (and channel PUSH) with no address: it has
 * no meaning for the local inventory, which the caller reports.
 */
typedef struct cr_sender_address
{
	cr_sender_channel channel;
	const char *address;
	size_t		address_len;
	const char *name;			/* EMAIL form only, else NULL */
	size_t		name_len;
	bool		is_push;		/* {"fcm"?, "apn"?}: no address, no inventory */
	const char *fcm;			/* push form: credential ids, or NULL */
	size_t		fcm_len;
	const char *apn;
	size_t		apn_len;
} cr_sender_address;

extern bool cr_parse_sender_address(const cr_jv *v, const char *path,
									cr_sender_address *out, cr_error *err);

/*
 * A whole Resolve request body (form A or B), as resolve_request takes it.
 */
typedef struct cr_full_request
{
	cr_request	req;
	bool		has_pool;
	const char *pool_id;
	size_t		pool_id_len;
	bool		has_sender;
	cr_sender_address sender;
} cr_full_request;

extern bool cr_parse_full_request(const cr_jv *v, cr_full_request *out,
								  cr_error *err);

/* ---------------------------------------------------------------------
 * Ranking
 * ---------------------------------------------------------------------
 */

/* One candidate sender: ACTIVATED, already restricted to the pool. */
typedef struct cr_sender
{
	const char *id;
	size_t		id_len;
	const char *address;
	size_t		address_len;
	cr_sender_channel channel;
	cr_geo		geo;			/* SMS and WHATSAPP only; else {0,-1} */
} cr_sender;

/* Fill s->geo from its channel and address. */
extern void cr_sender_prepare(cr_sender *s);

/*
 * A set of senders grouped by channel, as the ranker wants them.  by_channel
 * holds indexes into senders[]; the caller provides the index storage
 * (n_senders entries).
 */
typedef struct cr_pool
{
	const cr_sender *senders;
	int			n_senders;
	int		   *index;			/* n_senders entries, grouped by channel */
	int			start[CR_SCH_COUNT + 1];	/* channel c: index[start[c] .. start[c+1]) */
} cr_pool;

/* Group senders by channel; index must have room for n entries. */
extern void cr_pool_build(cr_pool *pool, const cr_sender *senders, int n,
						  int *index);

typedef struct cr_pair
{
	int			sender;			/* index into pool->senders */
	int			recipient;		/* index into req->recipients */
	int32_t		priority;
	int			geo;			/* cr_geo_match, for ordering */
	uint64_t	sticky;			/* cr_sticky_score, for ordering */
} cr_pair;

/*
 * Rank (sql.md 4.2-4.4): write the best min(max_results, candidates) pairs
 * to out[] (room for max_results) in rank order; return their number, or
 * -1 with *err set (an unlisted channel whose priority would pass
 * 2147483647).
 */
extern int	cr_rank(const cr_request *req, const cr_pool *pool,
					int max_results, cr_pair *out, cr_error *err);

/* Total order used by cr_rank: negative when a ranks before b. */
extern int	cr_pair_cmp(const cr_pool *pool, const cr_pair *a, const cr_pair *b);

#endif							/* CR_CORE_H */
