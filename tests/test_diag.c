#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "diag.h"
#include "arena.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_format_with_position),
        cmocka_unit_test(test_arena_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
