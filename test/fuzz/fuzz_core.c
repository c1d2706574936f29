/*-------------------------------------------------------------------------
 *
 * fuzz_core.c
 *	  libFuzzer target: the core's request parsers and cr_rank on a cr_jv
 *	  tree built directly from a compact binary encoding.
 *
 * fuzz_request reaches the core through json-c, which only yields valid
 * UTF-8 strings, NUL-free keys, trimmed number texts and fully converted
 * containers.  This target builds trees json-c never does, as the cr_jv
 * contract allows (cr_core.h): strings and keys of arbitrary bytes (jsonb in
 * a non-UTF-8 database), any number text, and containers converted only in
 * part (n_loaded < n).  Every string and key is copied into its own
 * exactly-sized allocation with no NUL after it, so AddressSanitizer sees
 * any read past its length.
 *
 * Encoding, one node:
 *	 byte t; t & 7 selects the type:
 *	   0 null; 1 bool (t & 8); 2 number: byte len, len bytes of text;
 *	   3 string: byte len (t & 0x80: two bytes, little-endian), the bytes;
 *	   4 array: byte count, then (t & 0x40) byte of unconverted extra
 *		 elements, then count nodes;
 *	   5 object: byte count, (t & 0x40) extra byte as for arrays, then count
 *		 members: a key byte k (k < 0x80: known key k % N; else k & 0x7f raw
 *		 key bytes follow) and a node;
 *	   6 a known string (next byte, modulo the table); 7 a known number.
 * Missing bytes read as zero; past the node budget or the depth limit a
 * container is left unconverted (n_loaded 0).
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

#define MAX_NODES 4096
#define MAX_DEPTH 12

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known_keys[] = {
	"recipientAddresses", "channels", "senderPoolId", "senderAddresses",
	"address", "channel", "filterIn", "priority", "name", "fcm", "apn",
};

static const char *const known_strings[] = {
	"PHONE", "EMAIL", "WHATSAPP", "PUSH", "SMS", "RCS",
	"+14155552671", "whatsapp:+14155552671", "jane.doe@example.com",
	"comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
	"comms_credential_01h9krwprkeee8fzqspvwy6nq8",
	"+442071234567", "+919876543210", "device-token-1", "+15035551234",
	"support@company.com", "+1", "whatsapp:", "@", "",
};

static const char *const known_numbers[] = {
	"0", "1", "2", "2147483647", "2147483648", "-1", "1.0", "1.5", "1e2",
	"2147483647.000", "-0", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "1e-1", "1E+9", "0.0000000000000000000001e22",
};

#define NKEYS (sizeof(known_keys) / sizeof(known_keys[0]))
#define NSTRINGS (sizeof(known_strings) / sizeof(known_strings[0]))
#define NNUMBERS (sizeof(known_numbers) / sizeof(known_numbers[0]))

typedef struct reader
{
	const uint8_t *p;
	size_t		left;
	int			nodes;
	void	  **allocs;			/* everything malloc'd, freed at the end */
	size_t		n_allocs;
	size_t		cap_allocs;
} reader;

static void *
r_alloc(reader *r, size_t n)
{
	void	   *p = fuzz_xmalloc(n);

	if (r->n_allocs == r->cap_allocs)
	{
		r->cap_allocs = r->cap_allocs ? r->cap_allocs * 2 : 64;
		r->allocs = realloc(r->allocs, sizeof(void *) * r->cap_allocs);
		if (r->allocs == NULL)
			abort();
	}
	r->allocs[r->n_allocs++] = p;
	return p;
}

static uint8_t
r_byte(reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

/* len bytes of input (fewer when it runs out) in an exact allocation. */
static const char *
r_bytes(reader *r, size_t len, size_t *out_len)
{
	char	   *s;

	if (len > r->left)
		len = r->left;
	s = r_alloc(r, len);
	if (len)
		memcpy(s, r->p, len);
	r->p += len;
	r->left -= len;
	*out_len = len;
	return s;
}

/* A copy of a table entry, without its NUL. */
static const char *
r_copy(reader *r, const char *text, size_t *out_len)
{
	size_t		len = strlen(text);
	char	   *s = r_alloc(r, len);

	if (len)
		memcpy(s, text, len);
	*out_len = len;
	return s;
}

static const cr_jv *
r_node(reader *r, int depth)
{
	cr_jv	   *v = r_alloc(r, sizeof(cr_jv));
	uint8_t		t = r_byte(r);

	memset(v, 0, sizeof(*v));
	r->nodes++;
	switch (t & 7)
	{
		case 0:
			v->type = CR_JV_NULL;
			break;
		case 1:
			v->type = CR_JV_BOOL;
			v->b = (t & 8) != 0;
			break;
		case 2:
			v->type = CR_JV_NUMBER;
			v->s = r_bytes(r, r_byte(r), &v->len);
			break;
		case 3:
			{
				size_t		len = r_byte(r);

				if (t & 0x80)
					len |= (size_t) r_byte(r) << 8;
				v->type = CR_JV_STRING;
				v->s = r_bytes(r, len, &v->len);
				break;
			}
		case 4:
		case 5:
			{
				size_t		count = r_byte(r);
				size_t		extra = (t & 0x40) ? r_byte(r) : 0;
				size_t		k = (depth >= MAX_DEPTH || r->nodes >= MAX_NODES) ? 0 : count;

				v->n = count + extra;
				if ((t & 7) == 4)
				{
					const cr_jv **items = r_alloc(r, sizeof(cr_jv *) * k);

					v->type = CR_JV_ARRAY;
					for (size_t i = 0; i < k; i++)
					{
						if (r->nodes >= MAX_NODES)
						{
							k = i;
							break;
						}
						items[i] = r_node(r, depth + 1);
					}
					v->items = items;
				}
				else
				{
					cr_jv_member *members = r_alloc(r, sizeof(cr_jv_member) * k);

					v->type = CR_JV_OBJECT;
					for (size_t i = 0; i < k; i++)
					{
						uint8_t		kb;

						if (r->nodes >= MAX_NODES)
						{
							k = i;
							break;
						}
						kb = r_byte(r);
						if (kb < 0x80)
							members[i].key = r_copy(r, known_keys[kb % NKEYS], &members[i].key_len);
						else
							members[i].key = r_bytes(r, kb & 0x7f, &members[i].key_len);
						members[i].value = r_node(r, depth + 1);
					}
					v->members = members;
				}
				v->n_loaded = k;
				break;
			}
		case 6:
			v->type = CR_JV_STRING;
			v->s = r_copy(r, known_strings[r_byte(r) % NSTRINGS], &v->len);
			break;
		default:
			v->type = CR_JV_NUMBER;
			v->s = r_copy(r, known_numbers[r_byte(r) % NNUMBERS], &v->len);
			break;
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reader		r = {data, size, 0, NULL, 0, 0};
	const cr_jv *root = r_node(&r, 0);

	fuzz_parse_all(root);
	for (size_t i = 0; i < r.n_allocs; i++)
		free(r.allocs[i]);
	free(r.allocs);
	return 0;
}
