"""Validates OpenAPI documents with openapi-spec-validator (PyPI, pinned in
scripts/lib.sh). Input: a JSON file {"files": [path, ...]}. Output: a JSON
list, per file, of {"valid": true} or {"valid": false, "error": "..."}."""
import json
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


def check(path):
    spec, _ = read_from_filename(path)
    try:
        validate(spec)
    except Exception as error:  # the validator raises its own error types
        return {"valid": False, "error": str(error).splitlines()[0]}
    return {"valid": True}


with open(sys.argv[1], encoding="utf-8") as request:
    files = json.load(request)["files"]
print(json.dumps([check(path) for path in files]))
