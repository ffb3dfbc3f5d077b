"""Signs deep-link tokens with the function docs/OPERATIONS.md gives operators (keep the two identical).
Input (the file named by the one argument): {"link_secret": "...", "subscriber_ids": ["...", ...]};
output on stdout: the JSON array of tokens. Used by LinkTokenCrossCheckTests.swift."""
import base64
import hashlib
import hmac
import json
import re
import sys


def telegram_link_token(subscriber_id: str, link_secret: str) -> str:
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,41}", subscriber_id), "1-41 characters of A-Z a-z 0-9 _ -"
    digest = hmac.new(link_secret.encode(), subscriber_id.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    return f"{subscriber_id}-{signature}"


with open(sys.argv[1], encoding="utf-8") as file:
    request = json.load(file)
json.dump([telegram_link_token(id, request["link_secret"]) for id in request["subscriber_ids"]], sys.stdout)
