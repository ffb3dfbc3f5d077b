"""oauthlib's Authorization header for each case (TwitterChannelTests).

Input (argv[1]): a JSON list of {"consumer_key", "consumer_secret", "token",
"token_secret", "nonce", "timestamp", "method", "url", "form"}; "form" is a
list of [name, value] pairs for a form-encoded body, or null for a JSON body
(not signed: oauthlib is given body=None, else it would add oauth_body_hash).
Output (stdout): a JSON list of the headers, in order.
"""
import json
import sys

from oauthlib.oauth1 import Client

cases = json.load(open(sys.argv[1], encoding='utf-8'))
headers = []
for case in cases:
    client = Client(case['consumer_key'], client_secret=case['consumer_secret'],
                    resource_owner_key=case['token'], resource_owner_secret=case['token_secret'],
                    nonce=case['nonce'], timestamp=case['timestamp'])
    if case.get('form') is None:
        _, signed, _ = client.sign(case['url'], http_method=case['method'], body=None,
                                   headers={'Content-Type': 'application/json'})
    else:
        _, signed, _ = client.sign(case['url'], http_method=case['method'], body=[tuple(p) for p in case['form']],
                                   headers={'Content-Type': 'application/x-www-form-urlencoded'})
    headers.append(signed['Authorization'])
json.dump(headers, sys.stdout)
