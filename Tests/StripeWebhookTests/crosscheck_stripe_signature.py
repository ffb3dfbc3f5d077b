"""stripe-python's verdict on each Stripe-Signature case (StripeWebhookTests).

Input (argv[1]): {"now": <seconds, float>, "cases": [{"body_hex", "header",
"secret", "tolerance"}]}; the clock stripe-python reads is set to "now".
Output (stdout): a JSON list, in order, of {"accepted": bool, "error": text}
from stripe.WebhookSignature.verify_header(body bytes, header, secret,
tolerance). Any exception is a refusal: a body that is not UTF-8 raises
UnicodeDecodeError, a non-ASCII v1 value reached by hmac.compare_digest a
TypeError.
"""
import json
import sys
import types

import stripe._webhook as webhook

request = json.load(open(sys.argv[1], encoding='utf-8'))
now = request['now']
webhook.time = types.SimpleNamespace(time=lambda: now)

verdicts = []
for case in request['cases']:
    try:
        webhook.WebhookSignature.verify_header(bytes.fromhex(case['body_hex']), case['header'], case['secret'],
                                               case['tolerance'])
        verdicts.append({'accepted': True, 'error': ''})
    except Exception as error:  # noqa: BLE001 - every exception is stripe-python refusing the request
        verdicts.append({'accepted': False, 'error': f'{type(error).__name__}: {error}'})
json.dump(verdicts, sys.stdout)
