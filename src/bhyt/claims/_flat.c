/* Strict readers for a GIAMDINHHS file: its envelope, and the flat table documents of a claim (XML1-XML15).
 *
 * envelope(data, max_document) -> (MACSKCB, NGAYLAP, SOLUONGHOSO, [[(LOAIHOSO, decoded NOIDUNGFILE), ...], ...])
 *     or None: the envelope of bhyt-spec section 1.3 exactly (texts as written, None for an element left out),
 *     each NOIDUNGFILE decoded from strict base64 (whitespace allowed) and no longer than max_document
 *     bytes (as 3/4 of its text). For anything else, a bad base64 or a document over the limit among them,
 *     it returns None and the caller reads the file with lxml, which finds what is wrong.
 * records(data, row) -> (root, [ {field: text}, ... ]) or None
 * records(data, row, spec) -> (root, records, clean): clean when every field is in spec and every value
 *     fits it (see fits()); the caller checks field by field only when it is not.
 *
 * It accepts only a subset of XML: an optional <?xml ...?> declaration (UTF-8), one root element
 * whose records are either the root itself (row is None) or elements named `row` found directly
 * below the root or one wrapper level down (DSACH_...), each record holding leaf fields
 * <NAME>text</NAME> or <NAME/>. Names are ASCII; there are no attributes, comments, processing
 * instructions, CDATA, entity or character references, carriage returns or other control characters.
 * For anything else it returns None and the caller reads the document with lxml, which also decides
 * whether it is well-formed at all: this reader never accepts what the XML parser would refuse.
 * Field text is stripped as Python's str.strip() does and decoded strictly (UnicodeDecodeError when it is
 * not UTF-8); everything else it accepts is ASCII, so a document it reads is UTF-8 throughout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const unsigned char *p, *end;
} Cursor;

static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n'; }
static int name_start(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int name_char(unsigned char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

static void skip_ws(Cursor *c) { while (c->p < c->end && is_ws(*c->p)) c->p++; }

/* "<NAME" then ">" (open, returns 1) or "/>" (empty, returns 2); 0 when outside the subset. */
static int open_tag(Cursor *c, const unsigned char **name, Py_ssize_t *len) {
    if (c->p >= c->end || *c->p != '<') return 0;
    const unsigned char *q = c->p + 1;
    if (q >= c->end || !name_start(*q)) return 0;
    const unsigned char *start = q;
    while (q < c->end && name_char(*q)) q++;
    if (q >= c->end) return 0;
    *name = start;
    *len = q - start;
    if (*q == '>') { c->p = q + 1; return 1; }
    if (*q == '/' && q + 1 < c->end && q[1] == '>') { c->p = q + 2; return 2; }
    return 0;
}

/* "</NAME>" for the given name. */
static int close_tag(Cursor *c, const unsigned char *name, Py_ssize_t len) {
    if (c->end - c->p < len + 3 || c->p[0] != '<' || c->p[1] != '/') return 0;
    if (memcmp(c->p + 2, name, (size_t)len) != 0 || c->p[2 + len] != '>') return 0;
    c->p += len + 3;
    return 1;
}

/* libxml2's XML_MAX_TEXT_LENGTH: lxml refuses a longer text node (no huge_tree), and so do these readers. */
#define MAX_TEXT 10000000

/* Character data up to the next '<': 0 when it holds '&', a control character, "]]>" or U+FFFE/FFFF, or
 * is longer than MAX_TEXT. */
static int text(Cursor *c, const unsigned char **start, Py_ssize_t *len) {
    const unsigned char *q = c->p;
    while (q < c->end && *q != '<') {
        if (q - c->p >= MAX_TEXT) return 0;
        unsigned char b = *q;
        if (b == '&' || (b < 0x20 && b != '\t' && b != '\n')) return 0;
        if (b == ']' && c->end - q >= 3 && q[1] == ']' && q[2] == '>') return 0;
        if (b == 0xEF && c->end - q >= 3 && q[1] == 0xBF && (q[2] == 0xBE || q[2] == 0xBF)) return 0;
        q++;
    }
    *start = c->p;
    *len = q - c->p;
    c->p = q;
    return 1;
}

/* Short ASCII values (codes, dates, amounts, the claim's MA_LK on every line) repeat within and across
 * claims: kept in slots by their bytes, as the names are, and shared (strings are immutable). */
#define VALUE_SLOTS 4096
#define SHORT_VALUE 24
static PyObject *values[VALUE_SLOTS];
static PyObject *short_value(const unsigned char *s, Py_ssize_t n) {
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] >= 0x80) return NULL;
        h = (h ^ s[i]) * 16777619u;
    }
    PyObject **slot = &values[h & (VALUE_SLOTS - 1)];
    PyObject *known = *slot;
    if (known != NULL && PyUnicode_GET_LENGTH(known) == n && memcmp(PyUnicode_1BYTE_DATA(known), s, (size_t)n) == 0)
        return Py_NewRef(known);
    PyObject *value = PyUnicode_FromStringAndSize((const char *)s, n);
    if (value != NULL) Py_XSETREF(*slot, Py_NewRef(value));
    return value;
}
static PyObject *stripped(const unsigned char *s, Py_ssize_t n) {
    while (n > 0 && is_ws(*s)) { s++; n--; }
    while (n > 0 && is_ws(s[n - 1])) n--;
    if (n <= SHORT_VALUE) {
        PyObject *shared = short_value(s, n);
        if (shared != NULL || PyErr_Occurred()) return shared;
    }
    PyObject *value = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (value == NULL || n == 0 || (s[0] < 0x80 && s[n - 1] < 0x80)) return value;
    PyObject *exact = PyObject_CallMethod(value, "strip", NULL); /* non-ASCII spaces, as str.strip() */
    Py_DECREF(value);
    return exact;
}

/* Field names, interned, found again by their bytes: a claim's records repeat the same few hundred names,
 * so most lookups cost a hash of the name and one compare instead of a new string and the intern table.
 * A slot also keeps the name's rule in the last spec it was looked up in. Each slot holds its own
 * references; a colliding name replaces the one before. */
#define NAME_SLOTS 1024
typedef struct {
    PyObject *name, *spec; /* spec: the dict the rule below was read from (NULL: none yet) */
    int known;             /* the name is in that spec with a well-formed rule */
    long kind, size, scale;
} Name;
static Name names[NAME_SLOTS];
static Name *interned(const unsigned char *s, Py_ssize_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    Name *slot = &names[h & (NAME_SLOTS - 1)];
    PyObject *known = slot->name; /* names are ASCII (name_char), so compact one-byte strings */
    if (known != NULL && PyUnicode_GET_LENGTH(known) == n && memcmp(PyUnicode_1BYTE_DATA(known), s, (size_t)n) == 0)
        return slot;
    PyObject *name = PyUnicode_FromStringAndSize((const char *)s, n);
    if (name == NULL) return NULL;
    PyUnicode_InternInPlace(&name);
    Py_XSETREF(slot->name, name);
    Py_CLEAR(slot->spec);
    return slot;
}
/* The rule of a name in spec, which maps the name to (kind 0 text / 1 number, size, scale), -1 for
 * "no limit": read once per spec and kept in the name's slot. 0 when the name is not in spec. */
static int rule(PyObject *spec, Name *slot) {
    if (slot->spec == spec) return slot->known;
    PyObject *found = PyDict_GetItemWithError(spec, slot->name);
    slot->known = 0;
    if (found != NULL && PyTuple_Check(found) && PyTuple_GET_SIZE(found) == 3) {
        slot->kind = PyLong_AsLong(PyTuple_GET_ITEM(found, 0));
        slot->size = PyLong_AsLong(PyTuple_GET_ITEM(found, 1));
        slot->scale = PyLong_AsLong(PyTuple_GET_ITEM(found, 2));
        slot->known = !PyErr_Occurred();
    }
    PyErr_Clear();
    Py_INCREF(spec);
    Py_XSETREF(slot->spec, spec);
    return slot->known;
}
/* Whether a value fits its field: the same test as bhyt.claims.schema.check_value. An unknown name
 * does not fit. */
static int fits(PyObject *spec, Name *slot, PyObject *value) {
    if (!rule(spec, slot)) return 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if (length == 0) return 1;
    long kind = slot->kind, size = slot->size, scale = slot->scale;
    if (kind == 0) return size < 0 || length <= size;
    Py_ssize_t n;
    const char *v = PyUnicode_AsUTF8AndSize(value, &n);
    if (v == NULL) { PyErr_Clear(); return 0; }
    Py_ssize_t i = 0;
    if (v[i] == '-') i++;
    Py_ssize_t first = i;
    while (i < n && v[i] == '0') i++;
    Py_ssize_t significant = i;
    while (i < n && v[i] >= '0' && v[i] <= '9') i++;
    if (i == first) return 0;
    Py_ssize_t whole = i - significant;
    if (whole == 0) whole = 1;
    if (size >= 0 && whole > size) return 0;
    if (i == n) return 1;
    if (v[i] != '.') return 0;
    Py_ssize_t dot = ++i;
    while (i < n && v[i] >= '0' && v[i] <= '9') i++;
    if (i != n || i == dot) return 0;
    return scale < 0 || i - dot <= scale;
}

/* The fields of one record, up to its close tag. NULL with no exception: outside the subset. */
static PyObject *record(Cursor *c, const unsigned char *tag, Py_ssize_t tag_len, PyObject *spec, int *clean,
                        Py_ssize_t expected) {
    PyObject *fields = _PyDict_NewPresized(expected); /* as many fields as the record before: no regrowth */
    if (fields == NULL) return NULL;
    for (;;) {
        skip_ws(c);
        if (close_tag(c, tag, tag_len)) return fields;
        const unsigned char *name, *body;
        Py_ssize_t name_len, body_len;
        int kind = open_tag(c, &name, &name_len);
        if (kind == 0) break;
        PyObject *value;
        if (kind == 2) {
            value = PyUnicode_FromStringAndSize("", 0);
        } else {
            if (!text(c, &body, &body_len) || !close_tag(c, name, name_len)) break;
            value = stripped(body, body_len);
        }
        Name *key = value ? interned(name, name_len) : NULL;
        int failed = key == NULL || PyDict_SetItem(fields, key->name, value) < 0;
        if (!failed && *clean && spec != NULL && !fits(spec, key, value)) *clean = 0;
        Py_XDECREF(value);
        if (failed) { Py_DECREF(fields); return NULL; }
    }
    Py_DECREF(fields);
    return NULL;
}

static int is_row(const unsigned char *name, Py_ssize_t len, const char *row, Py_ssize_t row_len) {
    return row != NULL && len == row_len && memcmp(name, row, (size_t)len) == 0;
}

/* Records below an element (the root, or a wrapper when depth is 1), appended to `out`. 1 done, 0 outside. */
static int rows_below(Cursor *c, const unsigned char *tag, Py_ssize_t tag_len, const char *row, Py_ssize_t row_len,
                      int depth, PyObject *out, PyObject *spec, int *clean, Py_ssize_t *expected) {
    for (;;) {
        skip_ws(c);
        if (close_tag(c, tag, tag_len)) return 1;
        const unsigned char *name;
        Py_ssize_t name_len;
        int kind = open_tag(c, &name, &name_len);
        if (kind == 0) return 0;
        if (is_row(name, name_len, row, row_len)) {
            PyObject *r = kind == 2 ? PyDict_New() : record(c, name, name_len, spec, clean, *expected);
            if (r == NULL) return 0;
            *expected = PyDict_GET_SIZE(r);
            int failed = PyList_Append(out, r) < 0;
            Py_DECREF(r);
            if (failed) return 0;
        } else if (depth == 0 && kind == 1) {
            if (!rows_below(c, name, name_len, row, row_len, 1, out, spec, clean, expected)) return 0;
        } else if (!(depth == 0 && kind == 2)) {
            return 0;
        }
    }
}

/* At q, the text lit (n bytes): advance past it. */
static int eat(const unsigned char **q, const unsigned char *end, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(end - *q) < n || memcmp(*q, lit, n) != 0) return 0;
    *q += n;
    return 1;
}

/* At q, ` name=` then a quoted value equal (ASCII case-insensitively when fold) to one of values. */
static int attribute(const unsigned char **q, const unsigned char *end, const char *name, const char *const *values,
                     int fold) {
    const unsigned char *r = *q;
    if (!eat(&r, end, " ") || !eat(&r, end, name) || !eat(&r, end, "=") || r >= end) return 0;
    unsigned char quote = *r++;
    if (quote != '"' && quote != '\'') return 0;
    for (const char *const *v = values; *v != NULL; v++) {
        size_t n = strlen(*v);
        if ((size_t)(end - r) <= n || r[n] != quote) continue;
        int same = 1;
        for (size_t i = 0; i < n && same; i++) {
            unsigned char a = r[i], b = (unsigned char)(*v)[i];
            if (fold && a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
            same = a == b;
        }
        if (same) { *q = r + n + 1; return 1; }
    }
    return 0;
}

/* An optional BOM and an XML declaration in its plain form: <?xml version="1.0"[ encoding="utf-8"]
   [ standalone="yes|no"] ?> (either quote, spaces before ?>). 1 read, 0 outside the subset: anything
   else, even well-formed, is left to lxml, which has the last word. */
static int prolog(Cursor *c) {
    static const char *const version[] = {"1.0", NULL}, *const utf8[] = {"utf-8", NULL},
                             *const standalone[] = {"yes", "no", NULL};
    if (c->end - c->p >= 3 && c->p[0] == 0xEF && c->p[1] == 0xBB && c->p[2] == 0xBF) c->p += 3;
    const unsigned char *q = c->p;
    if (!eat(&q, c->end, "<?xml")) return 1;
    if (!attribute(&q, c->end, "version", version, 0)) return 0;
    const unsigned char *r = q;
    if (attribute(&r, c->end, "encoding", utf8, 1)) q = r;
    r = q;
    if (attribute(&r, c->end, "standalone", standalone, 0)) q = r;
    while (q < c->end && *q == ' ') q++;
    if (!eat(&q, c->end, "?>")) return 0;
    c->p = q;
    return 1;
}

static PyObject *records(PyObject *Py_UNUSED(self), PyObject *args) {
    const char *data, *row = NULL;
    Py_ssize_t size, row_len = 0;
    PyObject *spec = NULL;
    if (!PyArg_ParseTuple(args, "y#z#|O!", &data, &size, &row, &row_len, &PyDict_Type, &spec)) return NULL;
    int clean = 1;
    Cursor c = {(const unsigned char *)data, (const unsigned char *)data + size};
    if (!prolog(&c)) Py_RETURN_NONE;
    skip_ws(&c);
    const unsigned char *root;
    Py_ssize_t root_len;
    int kind = open_tag(&c, &root, &root_len);
    if (kind == 0) Py_RETURN_NONE;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    int ok;
    if (row == NULL) {
        PyObject *r = kind == 2 ? PyDict_New() : record(&c, root, root_len, spec, &clean, 0);
        ok = r != NULL && PyList_Append(out, r) == 0;
        Py_XDECREF(r);
    } else {
        Py_ssize_t expected = 0;
        ok = kind == 2 || rows_below(&c, root, root_len, row, row_len, 0, out, spec, &clean, &expected);
    }
    if (PyErr_Occurred()) { Py_DECREF(out); return NULL; }
    skip_ws(&c);
    if (!ok || c.p != c.end) { Py_DECREF(out); Py_RETURN_NONE; }
    PyObject *name = PyUnicode_DecodeUTF8((const char *)root, root_len, "strict");
    if (name == NULL) { Py_DECREF(out); return NULL; }
    PyObject *result = spec == NULL ? PyTuple_Pack(2, name, out)
                                    : PyTuple_Pack(3, name, out, clean ? Py_True : Py_False);
    Py_DECREF(name);
    Py_DECREF(out);
    return result;
}

/* ---- The envelope ---- */

/* Its elements (bhyt-spec section 1.3), each with its parent; leaves hold text, only HOSO and FILEHOSO repeat. */
enum { E_ROOT, E_DONVI, E_MACSKCB, E_INFO, E_NGAYLAP, E_SOLUONG, E_LIST, E_HOSO, E_FILE, E_LOAI, E_NOIDUNG, E_CHUKY,
       E_COUNT };
static const struct {
    const char *name;
    int parent, leaf, repeats;
} ENV[E_COUNT] = {
    [E_ROOT] = {"GIAMDINHHS", -1, 0, 0},     [E_DONVI] = {"THONGTINDONVI", E_ROOT, 0, 0},
    [E_MACSKCB] = {"MACSKCB", E_DONVI, 1, 0}, [E_INFO] = {"THONGTINHOSO", E_ROOT, 0, 0},
    [E_NGAYLAP] = {"NGAYLAP", E_INFO, 1, 0},  [E_SOLUONG] = {"SOLUONGHOSO", E_INFO, 1, 0},
    [E_LIST] = {"DANHSACHHOSO", E_INFO, 0, 0}, [E_HOSO] = {"HOSO", E_LIST, 0, 1},
    [E_FILE] = {"FILEHOSO", E_HOSO, 0, 1},    [E_LOAI] = {"LOAIHOSO", E_FILE, 1, 0},
    [E_NOIDUNG] = {"NOIDUNGFILE", E_FILE, 1, 0}, [E_CHUKY] = {"CHUKYDONVI", E_ROOT, 1, 0},
};

static int env_child(int parent, const unsigned char *name, Py_ssize_t len) {
    for (int id = 0; id < E_COUNT; id++)
        if (ENV[id].parent == parent && (Py_ssize_t)strlen(ENV[id].name) == len && memcmp(ENV[id].name, name, (size_t)len) == 0)
            return id;
    return -1;
}

/* Base64 digits by byte: 0-63, or one of these. */
#define B64_BAD -1
#define B64_SPACE -2
#define B64_PAD -3
static signed char B64[256];
static void b64_table(void) {
    memset(B64, B64_BAD, sizeof B64);
    const char *digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++) B64[(unsigned char)digits[i]] = (signed char)i;
    B64[' '] = B64['\t'] = B64['\n'] = B64_SPACE;
    B64['='] = B64_PAD;
}

/* NOIDUNGFILE's text, up to the next '<', decoded: strict base64 where whitespace may come anywhere (as
 * bhyt.claims.parser._base64 reads it), canonical padding, no stray bits. NULL with no exception when it is
 * not that, is longer than MAX_TEXT, or would decode to more than max bytes (reckoned as 3/4 of the text,
 * as the caller does). */
static PyObject *b64_decode(Cursor *c, Py_ssize_t max) {
    const unsigned char *s = c->p, *end = s;
    while (end < c->end && *end != '<') end++;
    Py_ssize_t n = end - s;
    if (n * 3 / 4 > max || n > MAX_TEXT) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n / 4 * 3 + 3);
    if (out == NULL) return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    uint32_t acc = 0;
    int digits = 0, pad = 0;
    for (Py_ssize_t i = 0; i < n;) {
        if (digits == 0 && !pad && i + 4 <= n) { /* the usual case: four digits in a row */
            int a = B64[s[i]], b = B64[s[i + 1]], d = B64[s[i + 2]], e = B64[s[i + 3]];
            if ((a | b | d | e) >= 0) {
                uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d << 6 | (uint32_t)e;
                o[0] = (unsigned char)(v >> 16), o[1] = (unsigned char)(v >> 8), o[2] = (unsigned char)v;
                o += 3, i += 4;
                continue;
            }
        }
        int v = B64[s[i++]];
        if (v == B64_SPACE) continue;
        if (v == B64_PAD) { pad++; continue; }
        if (v < 0 || pad) goto outside;
        acc = acc << 6 | (uint32_t)v;
        if (++digits == 4) {
            o[0] = (unsigned char)(acc >> 16), o[1] = (unsigned char)(acc >> 8), o[2] = (unsigned char)acc;
            o += 3, acc = 0, digits = 0;
        }
    }
    if (pad == 1 && digits == 3 && (acc & 3) == 0) {
        o[0] = (unsigned char)(acc >> 10), o[1] = (unsigned char)(acc >> 2);
        o += 2;
    } else if (pad == 2 && digits == 2 && (acc & 15) == 0) {
        *o++ = (unsigned char)(acc >> 4);
    } else if (pad != 0 || digits != 0) {
        goto outside;
    }
    if (_PyBytes_Resize(&out, o - (unsigned char *)PyBytes_AS_STRING(out)) < 0) return NULL;
    c->p = end;
    return out;
outside:
    Py_DECREF(out);
    return NULL;
}

typedef struct {
    PyObject *text[E_COUNT]; /* MACSKCB, NGAYLAP, SOLUONGHOSO and the current LOAIHOSO, as written */
    PyObject *content;       /* the current NOIDUNGFILE, decoded */
    PyObject *hosos, *files; /* every HOSO's list of (LOAIHOSO, content); the current HOSO's list */
    Py_ssize_t max_document;
} Env;

static int env_element(Cursor *c, int id, int empty, Env *e);

/* The children of element `id`, up to its close tag. 1 read, 0 outside the subset (or an exception set). */
static int env_children(Cursor *c, int id, Env *e) {
    int seen[E_COUNT] = {0};
    for (;;) {
        skip_ws(c);
        if (close_tag(c, (const unsigned char *)ENV[id].name, (Py_ssize_t)strlen(ENV[id].name))) return 1;
        const unsigned char *name;
        Py_ssize_t len;
        int kind = open_tag(c, &name, &len);
        int child = kind == 0 ? -1 : env_child(id, name, len);
        if (child < 0 || (seen[child]++ && !ENV[child].repeats)) return 0; /* lxml's find() takes the first */
        if (!env_element(c, child, kind == 2, e)) return 0;
    }
}

/* One element after its open tag (`empty`: it was <NAME/>), through its close tag. */
static int env_element(Cursor *c, int id, int empty, Env *e) {
    if (!ENV[id].leaf) {
        if (empty) return 0;
        if (id == E_HOSO) {
            Py_XSETREF(e->files, PyList_New(0));
            if (e->files == NULL) return 0;
        } else if (id == E_FILE) {
            Py_CLEAR(e->text[E_LOAI]);
            Py_CLEAR(e->content);
        }
        if (!env_children(c, id, e)) return 0;
        if (id == E_HOSO) return PyList_Append(e->hosos, e->files) == 0;
        if (id != E_FILE) return 1;
        PyObject *loai = e->text[E_LOAI] ? Py_NewRef(e->text[E_LOAI]) : PyUnicode_FromStringAndSize("", 0);
        PyObject *content = e->content ? Py_NewRef(e->content) : PyBytes_FromStringAndSize("", 0);
        PyObject *pair = loai && content ? PyTuple_Pack(2, loai, content) : NULL;
        Py_XDECREF(loai);
        Py_XDECREF(content);
        int ok = pair != NULL && PyList_Append(e->files, pair) == 0;
        Py_XDECREF(pair);
        return ok;
    }
    const unsigned char *body = c->p;
    Py_ssize_t len = 0;
    if (id == E_NOIDUNG && !empty) {
        e->content = b64_decode(c, e->max_document);
        if (e->content == NULL) return 0;
    } else if (!empty && !text(c, &body, &len)) {
        return 0;
    }
    if (!empty && !close_tag(c, (const unsigned char *)ENV[id].name, (Py_ssize_t)strlen(ENV[id].name))) return 0;
    if (id == E_NOIDUNG) return 1;
    PyObject *value = PyUnicode_DecodeUTF8((const char *)body, len, "strict"); /* lxml refuses what is not UTF-8 */
    if (value == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) PyErr_Clear();
        return 0;
    }
    if (id == E_CHUKY) Py_DECREF(value); /* a signature: not read here */
    else Py_XSETREF(e->text[id], value);
    return 1;
}

static PyObject *envelope(PyObject *Py_UNUSED(self), PyObject *args) {
    const char *data;
    Py_ssize_t size, max_document;
    if (!PyArg_ParseTuple(args, "y#n", &data, &size, &max_document)) return NULL;
    Cursor c = {(const unsigned char *)data, (const unsigned char *)data + size};
    if (!prolog(&c)) Py_RETURN_NONE;
    skip_ws(&c);
    const unsigned char *root;
    Py_ssize_t root_len;
    if (open_tag(&c, &root, &root_len) != 1 || env_child(-1, root, root_len) != E_ROOT) Py_RETURN_NONE;
    Env e = {.hosos = PyList_New(0), .max_document = max_document};
    if (e.hosos == NULL) return NULL;
    int ok = env_children(&c, E_ROOT, &e);
    skip_ws(&c);
    PyObject *result = NULL;
    if (!PyErr_Occurred() && ok && c.p == c.end) {
        PyObject *none = Py_None;
        result = PyTuple_Pack(4, e.text[E_MACSKCB] ? e.text[E_MACSKCB] : none, e.text[E_NGAYLAP] ? e.text[E_NGAYLAP] : none,
                              e.text[E_SOLUONG] ? e.text[E_SOLUONG] : none, e.hosos);
    } else if (!PyErr_Occurred()) {
        result = Py_NewRef(Py_None);
    }
    for (int i = 0; i < E_COUNT; i++) Py_XDECREF(e.text[i]);
    Py_XDECREF(e.content);
    Py_XDECREF(e.files);
    Py_DECREF(e.hosos);
    return result;
}

static PyMethodDef methods[] = {
    {"records", records, METH_VARARGS, "records(data, row[, spec]) -> (root, records[, clean]) or None."},
    {"envelope", envelope, METH_VARARGS, "envelope(data, max_document) -> (MACSKCB, NGAYLAP, SOLUONGHOSO, hosos) or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_flat", "Strict reader of flat claim tables.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__flat(void) {
    b64_table();
    return PyModule_Create(&module);
}
