/*
 * Whether two JSON trees are the same: the types, integers, reals bit for
 * bit, strings byte for byte with their lengths, and object members in
 * order.  json_equal ignores the order of members and compares reals by
 * value (0.0 equals -0.0); this does neither.  For the tests and the fuzz
 * harness that hold ledger_json_parse to json_loadb.
 */
#ifndef LEDGER_TEST_SAME_TREE_H
#define LEDGER_TEST_SAME_TREE_H

#include <string.h>

#include <jansson.h>

static int
same_tree(const json_t *a, const json_t *b)
{
	void *ia, *ib;
	double ra, rb;
	size_t i;

	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL:
		ra = json_real_value(a);
		rb = json_real_value(b);
		return memcmp(&ra, &rb, sizeof(ra)) == 0;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b),
		    json_string_length(a) + 1) == 0;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!same_tree(json_array_get(a, i),
			    json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		ia = json_object_iter((json_t *)a);
		ib = json_object_iter((json_t *)b);
		for (; ia != NULL && ib != NULL;
		    ia = json_object_iter_next((json_t *)a, ia),
		    ib = json_object_iter_next((json_t *)b, ib))
			if (json_object_iter_key_len(ia) !=
			    json_object_iter_key_len(ib) ||
			    memcmp(json_object_iter_key(ia),
			    json_object_iter_key(ib),
			    json_object_iter_key_len(ia)) != 0 ||
			    !same_tree(json_object_iter_value(ia),
			    json_object_iter_value(ib)))
				return 0;
		return ia == NULL && ib == NULL;
	default:
		return 1;	/* true, false, null */
	}
}

#endif
