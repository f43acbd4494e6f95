"""docs/openapi.yaml against gatewayd: the same routes, served byte for byte, honest codes.

* Static: the route table in gatewayd/server.c (``routes[]``) and the document's
  ``paths`` list the same (method, path) pairs, with the same ``{name}`` path
  parameters; the routes that need no key are the ones the document marks
  ``security: []``, the others name the scope the table asks for (``x-scope``); the
  ``/api/`` aliases are deprecated; the problem slugs the code can answer are the
  ones the document lists.
* Live: gatewayd serves the document it was built with at GET /v1/openapi.yaml, and
  answers every documented operation, sent without a key, with a status the document
  lists for it: 401 where a key is needed, 200 where none is.
"""

import re

import pytest
import requests
import yaml

from conftest import REPO

SPEC_PATH = REPO / "docs" / "openapi.yaml"
SERVER_C = REPO / "gatewayd" / "server.c"
PROBLEM_BASE = "https://tgm.dev/problems/"
METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")
SCOPES = {"0": "none", "GW_SCOPE_READ": "read", "GW_SCOPE_SEND": "send",
          "GW_SCOPE_ADMIN": "admin", "GW_SCOPE_OWNER": "owner"}
# routes that need no key but check credentials of their own: the dashboard's login
LOGIN = {("post", "/v1/session")}
PUBLIC_PATHS = {"/healthz", "/metrics", "/v1/openapi.yaml"}


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(SPEC_PATH.read_text())


def parse_routes(text=None):
    """gatewayd's route table: [(method, pattern, scope)], scope as in SCOPES' values.

    A row is ``{ FLAGS, "pattern", handler, data },`` where FLAGS joins EVHTTP_REQ_*
    constants (or the file's #define aliases of them) with ``|``, and data is
    ``R(scope, fn)`` for routes through gw_dispatch, NULL for the others (no key)."""
    text = SERVER_C.read_text() if text is None else text
    aliases = dict(re.findall(r"^#define\s+(\w+)\s+EVHTTP_REQ_(\w+)\s*$", text, re.M))
    table = re.search(r"struct\s+tgm_http_route\s+routes\[\]\s*=\s*\{(.*?)^\};", text,
                      re.S | re.M)
    assert table, f"no routes[] table in {SERVER_C}"
    body = re.sub(r"/\*.*?\*/", "", table.group(1), flags=re.S)
    routes = []
    for row in re.findall(r"\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", body):
        fields = [f.strip() for f in row.split(",")]
        if fields[1] == "NULL":
            continue  # the end of the table
        m = re.fullmatch(r'"([^"]+)"', fields[1])
        assert m, f"cannot read the pattern of route row {{{row}}}"
        pattern = m.group(1)
        data = re.search(r"R\(\s*(\w+)\s*,", row)
        scope = SCOPES[data.group(1)] if data else "none"
        for flag in fields[0].split("|"):
            flag = flag.strip()
            name = aliases.get(flag) or re.fullmatch(r"EVHTTP_REQ_(\w+)", flag)
            assert name, f"cannot read the method {flag!r} of route {pattern}"
            method = (name if isinstance(name, str) else name.group(1)).lower()
            routes.append((method, pattern, scope))
    return routes


def operations(spec):
    """[(method, path, path item, operation)] for every operation in the document."""
    return [(m, path, item, item[m]) for path, item in spec["paths"].items()
            for m in METHODS if m in item]


def resolve(spec, obj):
    """Follow a local $ref (one level at a time) to the object it names."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


def path_params(spec, item, op):
    """{name: parameter} of the operation's path parameters (path item's and its own)."""
    params = {}
    for p in item.get("parameters", []) + op.get("parameters", []):
        p = resolve(spec, p)
        if p["in"] == "path":
            params[p["name"]] = p
    return params


def needs_key(spec, op):
    return op.get("security", spec.get("security", [])) != []


def documented_codes(op):
    return {int(code) for code in op["responses"] if code.isdigit()}


# ------------------------------------------------------------ static

def test_route_table_parser():
    """The parser reads flags, aliases, scopes and the end row, and skips comments."""
    text = """
#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
static const struct tgm_http_route routes[] = {
	{ GET | EVHTTP_REQ_HEAD, "/healthz", tgm_health_handler, NULL },
	/* a comment, { 0, "/not/a/route", x, NULL } */
	{ EVHTTP_REQ_PATCH, "/v1/bots/{id}", gw_dispatch, R(GW_SCOPE_ADMIN, gw_bots_update) },
	{ POST, "/v1/x", gw_dispatch, R(0, gw_x) },
	{ 0, NULL, NULL, NULL },
};
"""
    assert parse_routes(text) == [("get", "/healthz", "none"), ("head", "/healthz", "none"),
                                  ("patch", "/v1/bots/{id}", "admin"),
                                  ("post", "/v1/x", "none")]


def test_document_parses(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "tgm" and str(spec["info"]["version"]) == "1"
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearer": []}]


def test_every_route_is_documented(spec):
    routes = parse_routes()
    assert len(routes) >= 20, f"suspiciously few routes read from {SERVER_C}: {routes}"
    missing = []
    for method, pattern, _ in routes:
        item = spec["paths"].get(pattern)
        if item is None or method not in item:
            missing.append(f"{method.upper()} {pattern}")
    assert not missing, f"routes of gatewayd/server.c missing from docs/openapi.yaml: {missing}"


def test_every_documented_operation_is_a_route(spec):
    routes = {(m, p) for m, p, _ in parse_routes()}
    stale = [f"{m.upper()} {p}" for m, p, _, _ in operations(spec) if (m, p) not in routes]
    assert not stale, f"docs/openapi.yaml documents routes gatewayd does not serve: {stale}"
    for path, item in spec["paths"].items():
        unknown = set(item) - set(METHODS) - {"parameters", "summary", "description",
                                              "servers"}
        assert not unknown, f"{path}: unexpected keys {unknown}"


def test_path_parameters_match(spec):
    for method, path, item, op in operations(spec):
        names = set(re.findall(r"\{(\w+)\}", path))
        params = path_params(spec, item, op)
        assert set(params) == names, \
            f"{method.upper()} {path}: path parameters {sorted(params)}, template {sorted(names)}"
        for name, p in params.items():
            assert p.get("required") is True, f"{method.upper()} {path}: {name} not required"
            assert "schema" in p, f"{method.upper()} {path}: {name} has no schema"


def bot_api(path):
    """a Bot API path (/bot<token>/..., /file/bot<token>/...): a bot token, not a key"""
    return path.startswith(("/bot", "/file/bot"))


def test_scopes_match(spec):
    scopes = {(m, p): s for m, p, s in parse_routes()}
    for method, path, _, op in operations(spec):
        scope = scopes[(method, path)]
        where = f"{method.upper()} {path}"
        assert op.get("x-scope") == scope, f"{where}: x-scope {op.get('x-scope')}, table {scope}"
        assert needs_key(spec, op) == (scope != "none"), f"{where}: security vs scope {scope}"
        codes = documented_codes(op)
        if scope == "none":
            # the Bot API's 401 is Telegram's answer to a bot token, not about a key
            assert 200 in codes and ((401 in codes) == ((method, path) in LOGIN
                                                        or bot_api(path))), where
        else:
            assert {200, 201, 202, 204} & codes, f"{where}: no success response"
            assert {401, 429, 503} <= codes, f"{where}: lacks 401, 429 or 503"
            # read is the lowest scope: only send and admin routes can answer 403, and
            # (a session without the dashboard's Origin) any route that changes state
            assert (403 in codes) == (scope != "read" or method not in ("get", "head")), \
                f"{where}: 403 vs scope {scope}"
        if method in ("post", "patch"):
            assert {400, 413, 415} <= codes, f"{where}: a body route lacks 400, 413 or 415"


def test_operation_ids_unique(spec):
    ids = [op["operationId"] for _, _, _, op in operations(spec)]
    assert len(ids) == len(set(ids)), ids


def test_api_aliases_are_deprecated(spec):
    ops = {(m, p): op for m, p, _, op in operations(spec)}
    for (method, path), op in ops.items():
        if not path.startswith("/api/"):
            assert not op.get("deprecated"), f"{method.upper()} {path} is not an alias"
            continue
        assert op.get("deprecated") is True, f"{method.upper()} {path} is not deprecated"
        target = op.get("x-alias-of", "")
        t_method, _, t_path = target.partition(" ")
        assert (t_method.lower(), t_path) in ops, f"{path}: x-alias-of {target!r} is no route"
        assert t_path.startswith("/v1/")


def code_slugs():
    """Problem slugs gatewayd (and the HTTP layer under it) can answer."""
    files = sorted((REPO / "gatewayd").glob("*.c")) + [REPO / "common" / "http.c"]
    text = "\n".join(f.read_text() for f in files)
    # what libevent refuses by itself, turned into problems by common/httperr.c
    found = set(re.findall(r'return "(\w+)";', (REPO / "common" / "httperr.c").read_text()))
    for rx in (r'(?:gw_reply_problem|tgm_http_problem)\(\s*\w+\s*,\s*[^,]+,\s*"(\w+)"',
               r'\(struct gw_problem\)\s*\{\s*\d+\s*,\s*"(\w+)"',
               r'\bfail\(\s*pb\s*,\s*\d+\s*,\s*"(\w+)"'):
        found |= set(re.findall(rx, text))
    if re.search(r"\binvalid\(\s*pb\b", text):
        found.add("invalid_field")  # validate.c's invalid() is fail(pb, 422, "invalid_field")
    return found


def documented_problem_types(spec):
    """Every problem type URI the document names in a problem schema's enum."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "enum" and isinstance(v, list):
                    found.update(x for x in v if isinstance(x, str)
                                 and x.startswith(PROBLEM_BASE))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return found


def test_problem_slugs_match_the_code(spec):
    code = code_slugs()
    assert len(code) >= 15, f"suspiciously few slugs read from the code: {code}"
    listed = spec["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
    listed_slugs = {u[len(PROBLEM_BASE):] for u in listed}
    assert all(u.startswith(PROBLEM_BASE) for u in listed)
    assert code - listed_slugs == set(), f"slugs the code answers, undocumented: {code - listed_slugs}"
    assert listed_slugs - code == set(), f"documented slugs no code answers: {listed_slugs - code}"
    # every problem type named anywhere (responses, batch results) is in Problem's list
    assert documented_problem_types(spec) <= set(listed)


def test_api_doc_lists_every_problem_slug():
    """docs/api.md's table of problem slugs names every slug the code answers, and no other."""
    text = (REPO / "docs" / "api.md").read_text()
    table = text[text.index("| status | slugs |"):]
    table = table[:table.index("\n\n")]
    listed = set(re.findall(r"`([a-z_]+)`", table)) - {"gatewayd", "Allow", "Retry-After"}
    listed = {s for s in listed if "." not in s}
    code = code_slugs()
    assert code - listed == set(), f"slugs docs/api.md does not list: {code - listed}"
    assert listed - code == set(), f"slugs docs/api.md lists that no code answers: {listed - code}"


def test_problem_responses_list_their_slugs(spec):
    """Each problem+json response of an operation restricts `type` to its slugs."""
    for method, path, _, op in operations(spec):
        for code, response in op["responses"].items():
            response = resolve(spec, response)
            media = response.get("content", {}).get("application/problem+json")
            if media is None:
                continue
            enum = media["schema"].get("properties", {}).get("type", {}).get("enum")
            assert enum, f"{method.upper()} {path} {code}: the problem types are not listed"
            assert all(u.startswith(PROBLEM_BASE) for u in enum)


# ------------------------------------------------------------ live

def test_served_document_is_the_file(tgm_env):
    tgm_env.daemon("gatewayd")
    r = requests.get(tgm_env.http() + "/v1/openapi.yaml", timeout=5)
    assert r.status_code == 200
    assert "yaml" in r.headers["Content-Type"], r.headers
    assert r.content == SPEC_PATH.read_bytes(), \
        "GET /v1/openapi.yaml differs from docs/openapi.yaml: rebuild gatewayd (make)"
    assert int(r.headers["Content-Length"]) == len(r.content)


def example_path(path, params=None):
    """path with each {name} filled: the parameter's example, else 1."""
    params = params or {}
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), {}).get("example", 1)),
                  path)


def test_unauthenticated_answers_are_documented(tgm_env, spec):
    tgm_env.daemon("gatewayd")
    base = tgm_env.http()
    wrong = []
    checked = 0
    for method, path, item, op in operations(spec):
        codes = documented_codes(op)
        protected = needs_key(spec, op)
        params = path_params(spec, item, op)
        kw = {}
        if method in ("post", "put", "patch"):
            kw["json"] = {}  # a valid body, so the key is what is checked
        attempts = [{}]
        if protected:
            attempts.append({"Authorization": "Bearer not-a-tgm-key"})
        for headers in attempts:
            # HEAD answers are read to the end of the connection: no keep-alive
            r = requests.request(method.upper(), base + example_path(path, params), timeout=5,
                                 headers={"Connection": "close", **headers}, **kw)
            checked += 1
            where = f"{method.upper()} {path} {headers or ''}"
            if r.status_code not in codes:
                wrong.append(f"{where}: {r.status_code}, documented {sorted(codes)}")
                continue
            if (method, path) in LOGIN:
                if r.status_code != 422:  # {} names no email
                    wrong.append(f"{where}: {r.status_code}, expected 422")
                continue
            if not protected:
                # an example token is no bot's: the Bot API answers Telegram's 401
                want = 401 if bot_api(path) else 200
                if r.status_code != want:
                    wrong.append(f"{where}: {r.status_code}, expected {want}")
                continue
            if r.status_code != 401:
                wrong.append(f"{where}: {r.status_code}, expected 401")
                continue
            problem = r.json()
            if (r.headers.get("Content-Type") != "application/problem+json"
                    or problem.get("type") != PROBLEM_BASE + "unauthorized"
                    or problem.get("status") != 401
                    or r.headers.get("WWW-Authenticate") != 'Bearer realm="tgm"'):
                wrong.append(f"{where}: not the documented 401: {r.headers} {r.text}")
    assert checked >= 24
    assert not wrong, "answers without a key that the document does not list:\n" + \
        "\n".join(wrong)
