"""Escapes every string of a JSON array read on stdin with python-telegram-bot's
escape_markdown(text, version=2) and writes the JSON array of results on stdout.
Used by MarkdownCrossCheckTests.swift."""
import json
import sys

try:
    from telegram.helpers import escape_markdown
except ImportError as error:
    sys.exit(f"python-telegram-bot is not installed ({error}); scripts/test installs it (scripts/lib.sh)")

inputs = json.loads(sys.stdin.buffer.read().decode("utf-8"))
json.dump([escape_markdown(text, version=2) for text in inputs], sys.stdout)
