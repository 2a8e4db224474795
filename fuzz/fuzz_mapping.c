/* libFuzzer target: a response body, through parsing and the mapping of every kind to records. */
#include "ac-config.h"

#include "mojo.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *root, *obj, *cf;
	struct mojo_record rec;
	char err[256], why[256];
	int k, i, n;

	root = mojo_parse_body((const char *)data, size, err, sizeof(err));
	if (root == NULL)
		return 0;
	n = mojo_list_length(root);
	for (k = 0; k < MOJO_NKINDS; k++) {
		for (i = 0; i < n; i++) {
			obj = mojo_list_item(root, i, (enum mojo_kind)k);
			if (obj != NULL && mojo_record_make(&rec, (enum mojo_kind)k, obj, 5, why, sizeof(why)) == 0)
				mojo_record_clear(&rec);
			(void)mojo_object_time(obj, "updated_on");
		}
		obj = mojo_show_object(root, (enum mojo_kind)k, err, sizeof(err));
		if (obj != NULL) {
			if (mojo_record_make(&rec, (enum mojo_kind)k, obj, 0, why, sizeof(why)) == 0)
				mojo_record_clear(&rec);
			cf = mojo_custom_fields(obj);
			json_object_put(cf);
		}
	}
	mojo_error_text((const char *)data, size, err, sizeof(err));
	json_object_put(root);
	return 0;
}
