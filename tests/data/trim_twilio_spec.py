"""Write tests/data/twilio_api_v2010.trimmed.json: Twilio's spec cut to the paths we call.

python tests/data/trim_twilio_spec.py [/work/shared/twilio-oai/twilio_api_v2010.json]

Keeps the Messages and Calls list/create paths, every component they reference (followed
transitively), the servers and the security scheme; nothing is edited, only left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = Path("/work/shared/twilio-oai/twilio_api_v2010.json")
TARGET = HERE / "twilio_api_v2010.trimmed.json"
PATHS = (
    "/2010-04-01/Accounts/{AccountSid}/Messages.json",
    "/2010-04-01/Accounts/{AccountSid}/Calls.json",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with only :data:`PATHS` and the components they need."""
    paths = {p: spec["paths"][p] for p in PATHS}
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": spec["components"]["securitySchemes"]
    }
    todo, seen = _refs(paths), set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = spec["components"][section][name]
        components.setdefault(section, {})[name] = value
        todo |= _refs(value)
    keep = ("openapi", "info", "servers", "security", "tags")
    return {**{k: spec[k] for k in keep if k in spec}, "paths": paths, "components": components}


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SOURCE
    spec = json.loads(source.read_text(encoding="utf-8"))
    TARGET.write_text(json.dumps(trim(spec), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({len(PATHS)} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
