"""The API's operations as the docs page lists them, read from the generated OpenAPI schema."""

from dataclasses import dataclass, field

from drf_spectacular.generators import SchemaGenerator


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[dict] = field(default_factory=list)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, description


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in spec:
        spec = schema["components"]["schemas"][spec["$ref"].rsplit("/", 1)[-1]]
    return spec


def _item_fields(schema: dict, response: dict) -> list[tuple[str, str, str]]:
    content = response.get("content", {}).get("application/json", {}).get("schema", {})
    body = _resolve(schema, content)
    if "results" in body.get("properties", {}):  # a page: list its items' fields
        body = _resolve(schema, body["properties"]["results"].get("items", {}))
    rows = []
    for name, spec in body.get("properties", {}).items():
        spec = _resolve(schema, spec) if "$ref" in spec else spec
        kind = spec.get("type") or ("object" if "properties" in spec else "")
        if spec.get("format"):
            kind = f"{kind} ({spec['format']})"
        rows.append((name, kind, spec.get("description", "")))
    return rows


def operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=op.get("description", ""),
                    parameters=[
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "description": p.get("description", ""),
                            "required": p.get("required", False),
                        }
                        for p in op.get("parameters", [])
                    ],
                    fields=_item_fields(schema, op.get("responses", {}).get("200", {})),
                )
            )
    return found
