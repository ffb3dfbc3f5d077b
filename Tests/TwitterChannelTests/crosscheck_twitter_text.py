"""twitter-text-parser's view of each text (TwitterChannelTests).

Input (argv[1]): a JSON list of texts. Output (stdout): a JSON list of
{"weightedLength", "valid", "urls": [[url, start, end]], "emoji": [[start, end]]}
with URLs and emoji found in the normalised text (NFC, "\n" line endings)
as parse_tweet finds them, indices in code points.
"""
import json
import sys
import unicodedata

from twitter_text import extract_emojis_with_indices, extract_urls_with_indices, parse_tweet
from twitter_text.parse_tweet import convert_line_ending

answers = []
for text in json.load(open(sys.argv[1], encoding='utf-8')):
    parsed = parse_tweet(text)
    normalized = convert_line_ending(unicodedata.normalize('NFC', text))
    answers.append({
        'weightedLength': parsed.weightedLength,
        'valid': parsed.valid,
        'urls': [[u['url'], u['indices'][0], u['indices'][1]] for u in extract_urls_with_indices(normalized)],
        'emoji': [e['indices'] for e in extract_emojis_with_indices(normalized)],
    })
json.dump(answers, sys.stdout)
