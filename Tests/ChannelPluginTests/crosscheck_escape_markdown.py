"""Escapes every string of the JSON array in the file named by the one argument with python-telegram-bot's
escape_markdown(text, version=2) and writes the JSON array of results on stdout.
Used by MarkdownCrossCheckTests.swift."""
import json
import sys

try:
    from telegram.helpers import escape_markdown
except ImportError as error:
    sys.exit(f"python-telegram-bot is not installed ({error}); scripts/test installs it (scripts/lib.sh)")

with open(sys.argv[1], encoding="utf-8") as file:
    inputs = json.load(file)
json.dump([escape_markdown(text, version=2) for text in inputs], sys.stdout)
