#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "arena.h"
#include "sort.h"

static void test_error_format_with_position(void **state) {
    (void)state;
    sw_error e;
    char buf[256];
    sw_loc loc = {"a.yaml", 3, 12};
    assert_int_equal(sw__err_at(&e, SW_INPUT, loc, "bad %s", "version"), SW_INPUT);
    assert_string_equal(sw_error_format(&e, buf, sizeof buf), "a.yaml:3:12: error: bad version");
    sw__err(&e, SW_USAGE, "no such layout '%s'", "x");
    assert_string_equal(sw_error_format(&e, buf, sizeof buf), "shardwave: error: no such layout 'x'");
    assert_string_equal(sw_status_str(SW_NOMEM), "out of memory");
}

static void test_arena_and_overflow(void **state) {
    (void)state;
    sw_arena a;
    sw_arena_init(&a);
    char *s = sw_arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    void *big = sw_arena_alloc(&a, 1 << 20);
    assert_non_null(big);
    assert_null(sw_arena_array(&a, SIZE_MAX / 2, 4));
    int64_t r;
    assert_int_equal(sw_mul64(INT64_MAX, 2, &r), -1);
    assert_int_equal(sw_add64(40, 2, &r), 0);
    assert_int_equal(r, 42);
    sw_arena_free(&a);
}

static void test_arena_adopt(void **state) {
    (void)state;
    sw_arena a;
    sw_arena_init(&a);
    char *big = sw_arena_alloc(&a, 1 << 20), *owned = malloc(100);
    assert_true(big && owned);
    for (size_t i = 0; i < (1 << 20); i++) assert_int_equal(big[i], 0); /* zeroed, from calloc */
    assert_int_equal(sw_arena_adopt(&a, owned), 0);
    assert_int_equal(sw_arena_adopt(&a, NULL), 0);
    sw_arena_free(&a); /* frees owned too (ASan and valgrind see a leak otherwise) */
}

typedef struct rec {
    uint32_t key, seq;
} rec;
static inline int rec_before(const rec *x, const rec *y) { return x->key < y->key; }
SW_SORT_DEFINE(sort_rec, rec, rec_before)

static void test_typed_sort_is_stable(void **state) {
    (void)state;
    for (size_t n = 0; n < 300; n += 1 + n / 3) {
        rec *v = malloc((n + 1) * sizeof *v);
        uint32_t x = 12345;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            v[i] = (rec){(x >> 16) % 7, (uint32_t)i};
        }
        assert_int_equal(sort_rec(v, n), 0);
        for (size_t i = 1; i < n; i++) {
            assert_true(v[i - 1].key <= v[i].key);
            if (v[i - 1].key == v[i].key) assert_true(v[i - 1].seq < v[i].seq); /* stable */
        }
        free(v);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_adopt),
        cmocka_unit_test(test_typed_sort_is_stable),
        cmocka_unit_test(test_error_format_with_position),
        cmocka_unit_test(test_arena_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
