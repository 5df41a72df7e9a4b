"""The OpenAPI document describes every operation the API serves; the docs page works offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.blueprints.brand_api.chain_world import API, api_operations

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def spec(client) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def spec_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(spec: dict, ref: str):
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} points at nothing"
        node = node[part]
    return node


def test_the_document_is_openapi_3(spec):
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"] == "v1"
    assert set(spec) <= {
        "openapi", "info", "servers", "paths", "components", "security", "tags",
        "externalDocs", "webhooks", "jsonSchemaDialect",
    }  # fmt: skip
    for path, item in spec["paths"].items():
        assert path.startswith("/")
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert method in HTTP_METHODS, (path, method)
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert status == "default" or re.fullmatch(r"[1-5](\d\d|XX)", status)
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"query", "header", "path", "cookie"}
                assert "schema" in parameter or "content" in parameter
    for ref in _refs(spec):
        _resolve(spec, ref)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()
           if isinstance(op, dict) and "operationId" in op]  # fmt: skip
    assert len(ids) == len(set(ids))


def test_every_operation_the_api_serves_is_documented(app, spec):
    missing = [
        f"{method} {spec_path(rule)}"
        for rule, method in api_operations(app)
        if method.lower() not in spec["paths"].get(spec_path(rule), {})
    ]
    assert not missing, f"not in openapi.json: {missing}"
    served = {spec_path(rule) for rule, _ in api_operations(app)}
    assert set(spec["paths"]) == served  # and nothing that is not served


def test_requests_are_documented_with_their_schemas(spec):
    create = spec["paths"][f"{API}/organisations"]["post"]
    schema = _resolve(spec, create["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert set(schema["required"]) == {"kind", "name"}
    assert schema["properties"]["kind"]["enum"] == ["dealer", "factory"]
    assert schema["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 200}
    imports = spec["paths"][f"{API}/imports"]["post"]["requestBody"]["content"]
    assert set(imports) == {"application/json", "text/csv"}


def test_the_api_is_secured_by_a_bearer_key(spec):
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s == {"type": "http", "scheme": "bearer"}]
    assert bearer
    assert {name for requirement in spec["security"] for name in requirement} <= set(bearer)
    assert any(name in requirement for requirement in spec["security"] for name in bearer)


def test_errors_are_documented_in_the_one_format(spec):
    error = _resolve(spec, "#/components/schemas/Error")
    assert error["properties"]["error"]
    body_ref = error["properties"]["error"]["$ref"]
    assert set(_resolve(spec, body_ref)["properties"]) == {"code", "message", "details"}


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.urls.append(attrs["src"])


def test_the_docs_page_loads_only_local_assets_and_they_are_served(client):
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    parser = _Assets()
    parser.feed(html)
    assert any(url.endswith(".js") for url in parser.urls)
    assert any(url.endswith(".css") for url in parser.urls)
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not served by us"
        asset = client.get(urljoin(f"{API}/docs", url))
        assert asset.status_code == 200, url
        assert asset.get_data(), url
    assert not re.search(r"https?://|//cdn|unpkg|jsdelivr", html)
    # The page reads our own document.
    assert f'"{API}/openapi.json"' in html


def test_the_docs_need_no_key_and_assets_outside_the_folder_are_not_served(client):
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert client.get(f"{API}/docs").status_code == 200
    assert client.get(f"{API}/docs/assets/../__init__.py").status_code == 404
    assert client.get(f"{API}/docs/assets/no-such-file.js").status_code == 404


def _status_codes(spec, path, method) -> set[str]:
    return set(spec["paths"][path][method]["responses"])


def test_every_operation_lists_the_4xx_answers_it_can_give(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            where = (method, path)
            assert "401" in codes, where
            if "{" in path:
                assert "404" in codes, where
            if "requestBody" in operation:
                assert {"400", "422"} <= codes, where
            if method in ("post", "patch", "delete"):
                assert {"409", "422"} <= codes, where
            for code in codes - {"default"}:
                if code.startswith("4"):
                    # The shared response by reference, or one described in place.
                    answer = operation["responses"][code]
                    if "$ref" in answer:
                        answer = _resolve(spec, answer["$ref"])
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    }, (code, where)
    assert "415" in _status_codes(spec, f"{API}/imports", "post")


def test_the_document_states_the_limits_on_input(spec):
    description = spec["info"]["description"]
    for limit in ("64 levels", "surrogates", "1 to 9999", "NFC", "bidirectional", "UTF-8", "`=`"):
        assert limit in description, limit
