#include "yaml_load.h"

#include <string.h>
#include <yaml.h>

#include "bounds.h"

typedef struct anchor {
    const char *name;
    sw_doc *node;
} anchor;

typedef struct loader {
    yaml_parser_t parser;
    sw_arena *a;
    const char *path;
    const char *text; /* the input, for positions libyaml gives as byte offsets */
    size_t len;
    sw_error *err;
    anchor *anchors;
    size_t nanchors, capanchors;
    int depth;
} loader;

static sw_loc mark_loc(const loader *L, yaml_mark_t m) {
    sw_loc loc = {L->path, (int)m.line + 1, (int)m.column + 1};
    return loc;
}

/* Line and column (1-based, in bytes) of byte offset off of the input. */
static sw_loc offset_loc(const loader *L, size_t off) {
    sw_loc loc = {L->path, 1, 1};
    if (off > L->len) off = L->len;
    for (size_t i = 0; i < off; i++) {
        if (L->text[i] == '\n') loc.line++, loc.col = 1;
        else loc.col++;
    }
    return loc;
}

static int yaml_error(loader *L) {
    yaml_parser_t *p = &L->parser;
    const char *problem = p->problem ? p->problem : "syntax error";
    /* the reader (encoding, control characters) knows only the byte offset */
    if (p->error == YAML_READER_ERROR) {
        if (p->problem_value >= 0 && p->problem_value <= 0xff)
            return sw__err_at(L->err, SW_INPUT, offset_loc(L, p->problem_offset),
                              "YAML syntax error: %s (byte 0x%02x)", problem, (unsigned)p->problem_value);
        return sw__err_at(L->err, SW_INPUT, offset_loc(L, p->problem_offset), "YAML syntax error: %s", problem);
    }
    if (p->context)
        return sw__err_at(L->err, SW_INPUT, mark_loc(L, p->problem_mark), "YAML syntax error: %s %s (line %d)",
                          problem, p->context, (int)p->context_mark.line + 1);
    return sw__err_at(L->err, SW_INPUT, mark_loc(L, p->problem_mark), "YAML syntax error: %s", problem);
}

static int next_event(loader *L, yaml_event_t *ev) {
    if (!yaml_parser_parse(&L->parser, ev)) return yaml_error(L);
    return SW_OK;
}

static int nomem(loader *L) { return sw__err(L->err, SW_NOMEM, "out of memory while reading %s", L->path); }

static int remember_anchor(loader *L, const yaml_char_t *name, sw_doc *node) {
    if (!name) return SW_OK;
    if (SW_GROW(L->anchors, L->capanchors, L->nanchors + 1)) return nomem(L);
    L->anchors[L->nanchors].name = sw_arena_strdup(L->a, (const char *)name);
    if (!L->anchors[L->nanchors].name) return nomem(L);
    L->anchors[L->nanchors++].node = node;
    return SW_OK;
}

static int parse_node(loader *L, yaml_event_t *ev, sw_doc **out);

/* Reads events up to the end of the collection that ev started. */
static int parse_collection(loader *L, yaml_event_t *start, sw_doc *node) {
    int rc = SW_OK;
    int is_map = node->kind == SW_DOC_MAP;
    if (++L->depth > SW_MAX_NEST)
        return sw__err_at(L->err, SW_INPUT, node->loc, "mappings and lists nested more than %d deep (the input limit)",
                          SW_MAX_NEST);
    for (;;) {
        yaml_event_t ev;
        SW_CHECK(next_event(L, &ev));
        if (ev.type == (is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            break;
        }
        sw_doc *key = NULL, *val = NULL;
        rc = parse_node(L, &ev, &key);
        yaml_event_delete(&ev);
        if (rc) return rc;
        if (!is_map) {
            if (sw_doc_push(L->a, node, key)) return nomem(L);
            continue;
        }
        if (node->n >= SW_MAX_MAP_KEYS)
            return sw__err_at(L->err, SW_INPUT, key->loc, "more than %d keys in one mapping (the input limit)",
                              SW_MAX_MAP_KEYS);
        if (key->kind != SW_DOC_SCALAR)
            return sw__err_at(L->err, SW_INPUT, key->loc, "mapping keys must be scalars, not %s",
                              sw_doc_kind_name(key->kind));
        if (sw_doc_key(node, key->text))
            return sw__err_at(L->err, SW_INPUT, key->loc, "duplicate key '%s' in this mapping", key->text);
        SW_CHECK(next_event(L, &ev));
        rc = parse_node(L, &ev, &val);
        yaml_event_delete(&ev);
        if (rc) return rc;
        if (sw_doc_put(L->a, node, key, val)) return nomem(L);
    }
    (void)start;
    L->depth--;
    return SW_OK;
}

static int parse_node(loader *L, yaml_event_t *ev, sw_doc **out) {
    sw_loc loc = mark_loc(L, ev->start_mark);
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        sw_doc_style st = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? SW_DOC_PLAIN : SW_DOC_QUOTED;
        if (ev->data.scalar.tag && st == SW_DOC_PLAIN &&
            !strcmp((const char *)ev->data.scalar.tag, "tag:yaml.org,2002:str"))
            st = SW_DOC_QUOTED;
        *out = sw_doc_scalar(L->a, loc, (const char *)ev->data.scalar.value, ev->data.scalar.length, st);
        if (!*out) return nomem(L);
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
            return sw__err_at(L->err, SW_INPUT, loc, "a NUL character inside a scalar");
        return remember_anchor(L, ev->data.scalar.anchor, *out);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        sw_doc *n = sw_doc_new(L->a, is_map ? SW_DOC_MAP : SW_DOC_SEQ, loc);
        if (!n) return nomem(L);
        n->flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                         : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
        SW_CHECK(remember_anchor(L, is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, n));
        *out = n;
        return parse_collection(L, ev, n);
    }
    case YAML_ALIAS_EVENT:
        for (size_t i = L->nanchors; i-- > 0;)
            if (!strcmp(L->anchors[i].name, (const char *)ev->data.alias.anchor)) {
                *out = L->anchors[i].node;
                return SW_OK;
            }
        return sw__err_at(L->err, SW_INPUT, loc, "YAML alias '*%s' names no anchor", ev->data.alias.anchor);
    default:
        return sw__err_at(L->err, SW_INPUT, loc, "YAML: unexpected event");
    }
}

int sw_yaml_load(sw_arena *a, const char *path, const char *text, size_t len, sw_doc **out, sw_error *err) {
    loader L;
    memset(&L, 0, sizeof L);
    L.a = a;
    L.path = path;
    L.text = text;
    L.len = len;
    L.err = err;
    *out = NULL;
    if (!yaml_parser_initialize(&L.parser)) return sw__err(err, SW_NOMEM, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, len);
    int rc = SW_OK;
    yaml_event_t ev;
    int ndocs = 0;
    for (;;) {
        SW_CHECK_GOTO(next_event(&L, &ev), rc, done);
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++ndocs > 1) {
            rc = sw__err_at(err, SW_INPUT, mark_loc(&L, ev.start_mark),
                            "a layout file holds one YAML document, found a second one");
            yaml_event_delete(&ev);
            goto done;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
            t == YAML_ALIAS_EVENT) {
            rc = parse_node(&L, &ev, out);
            yaml_event_delete(&ev);
            if (rc) goto done;
            continue;
        }
        yaml_event_delete(&ev);
    }
    if (!*out) {
        sw_loc loc = {path, 1, 1};
        rc = sw__err_at(err, SW_INPUT, loc, "the file is empty: expected a mapping with 'shardwave: 1'");
    }
done:
    free(L.anchors);
    yaml_parser_delete(&L.parser);
    return rc;
}
