"""Text corpora for the Acme Helpdesk demo story: questions, answers, JSON, summaries, errors.

Acme sells a ticketing SaaS; "Acme Helpdesk" is its support chat, backed by three prompts.
Every function takes the caller's seeded `random.Random`, so the story stays reproducible.
Texts are short on purpose: the committed sample logs must stay small.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

TOPICS = ("billing", "account", "integrations", "data", "bug", "howto")
TOPIC_WEIGHTS = (22, 22, 17, 11, 18, 10)

PLANS = ("Starter", "Team", "Business", "Enterprise")
INTEGRATIONS = ("Slack", "Jira", "Salesforce", "Zapier", "Google Drive", "Microsoft Teams", "HubSpot", "GitHub")
DEVICES = ("iPhone 15", "Pixel 8", "Galaxy S23", "iPad Air", "OnePlus 12")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge")
MONTHS = ("August", "September", "October")
ERROR_CODES = ("E1042", "E2210", "SYNC-409", "AUTH-401", "EXP-504", "WH-401")
COUNTRIES = ("Germany", "France", "the Netherlands", "Ireland", "Spain", "Poland")

# (question, answer, issue as a summary names it), sharing slots filled by `slots()`.
CASES = {
    "billing": (
        ("I was charged twice for the {plan} plan this month (invoice {invoice}). Can you refund one?",
         "The second charge on {invoice} is a pending authorization; your bank releases it within 3–5 business days. If it is still there on Friday, reply here and I'll refund it.",
         "a duplicate charge on {invoice}"),
        ("How do I add our VAT number to invoices? We're based in {country}.",
         "Add it under **Settings → Billing → Tax details**. It appears on every invoice from the next cycle, and I can reissue past invoices on request.",
         "adding a VAT number ({country})"),
        ("Can I switch from monthly to annual billing without losing the {plan} discount?",
         "Yes: annual billing keeps your {plan} discount. Go to **Settings → Billing → Change cycle**; the unused part of this month is credited automatically.",
         "switching {plan} to annual billing"),
        ("Our card was declined but the bank says nothing was blocked. What now?",
         "Declines without a bank block are usually 3-D Secure timeouts. Retry under **Settings → Billing → Payment method** and approve the prompt in your banking app.",
         "a declined card"),
        ("We downgraded to {plan} but still got billed for {seats} seats.",
         "Seats are billed at their peak for the month, so {seats} seats were still counted after the downgrade. Removing inactive members now lowers the next invoice.",
         "being billed for {seats} seats after a downgrade"),
        ("Where can I download invoice {invoice} as a PDF?",
         "Invoices are under **Settings → Billing → History**. Click {invoice}, then **Download PDF**.",
         "finding invoice {invoice}"),
        ("Why did our bill go up in {month}? Nothing changed on our side.",
         "The {month} increase comes from the yearly price adjustment announced in July (+6% on {plan}). The breakdown is on the invoice's second page.",
         "a higher bill in {month}"),
    ),
    "account": (
        ("I can't log in, the password reset email never arrives (checked spam).",
         "Reset emails come from no-reply@acme.example. Add it to your allow-list, then request a new link; links expire after 30 minutes.",
         "missing password reset emails"),
        ("How do I enable SSO with Okta for our {plan} workspace?",
         "SSO is available on Business and Enterprise. In **Admin → Security → SSO**, choose SAML, paste the metadata URL from Okta and test with one user first.",
         "setting up Okta SSO on {plan}"),
        ("I lost my phone and can't get past 2FA. How do I get back into my account?",
         "Use one of your backup codes to sign in. If you don't have any, an admin of your workspace can reset 2FA for you under **Admin → Members**.",
         "being locked out after losing a 2FA device"),
        ("How do I remove a user who left the company? She was the only admin.",
         "Promote another member to admin first (**Admin → Members → Role**), then deactivate her account; her tickets stay assigned until you reassign them.",
         "removing the only admin"),
        ("I get '{code}: session expired' every few minutes in {browser}.",
         "Sessions expiring every few minutes usually mean a blocked cookie. Allow cookies for app.acme.example in {browser} and sign in again.",
         "sessions expiring in {browser} ({code})"),
        ("How do I transfer workspace ownership to a colleague?",
         "The owner can transfer it under **Admin → Workspace → Owner**. The new owner must accept the invite within 7 days.",
         "transferring workspace ownership"),
        ("Please delete my account and all my data (GDPR request).",
         "I've registered your deletion request. You'll get a confirmation email; everything is erased within 30 days, backups included.",
         "a GDPR deletion request"),
    ),
    "integrations": (
        ("The {integration} integration stopped syncing yesterday, error {code}.",
         "{code} means the {integration} token expired. Reconnect it under **Settings → Integrations → {integration}**; syncing resumes within a few minutes.",
         "{integration} sync failing with {code}"),
        ("How do I connect {integration} to a single project instead of the whole workspace?",
         "When connecting {integration}, pick **Selected projects** instead of **All projects**.",
         "scoping {integration} to one project"),
        ("Our webhooks return 401 since we rotated the API key.",
         "Webhooks are signed with the API key, so after a rotation update the secret in your receiver too. Old signatures stop working immediately.",
         "webhooks failing after a key rotation"),
        ("What's the API rate limit on {plan}? We keep hitting 429s.",
         "The API allows 600 requests per minute on {plan}. Spread bulk jobs out or use the batch endpoint, which counts 100 items as one request.",
         "API rate limits (429s) on {plan}"),
        ("Can {integration} notifications go to a private channel?",
         "Yes. Invite the Acme app to the private channel first, then pick it under **Settings → Integrations → {integration} → Channel**.",
         "{integration} notifications in a private channel"),
    ),
    "data": (
        ("How do I export all tickets from {month} to CSV?",
         "Go to **Reports → Export**, choose **Tickets**, set the range to {month} and pick CSV. You'll get an email when the file is ready.",
         "exporting {month} tickets"),
        ("The CSV import fails at row {row} with 'invalid date format'.",
         "The importer expects ISO dates like 2026-11-03. Row {row} probably uses 03/11/2026; fix that column and re-upload.",
         "a CSV import failing at row {row}"),
        ("Our export has been 'processing' for {hours} hours.",
         "Large exports take a while, but {hours} hours is too long. I've restarted the job; you'll get an email within the hour.",
         "an export stuck for {hours} hours"),
        ("Where is our data stored? We need EU data residency.",
         "Workspaces created in the EU region keep all data in Frankfurt and Dublin. Check yours under **Admin → Workspace → Data residency**.",
         "EU data residency"),
    ),
    "bug": (
        ("The mobile app crashes when I open an attachment on my {device}.",
         "This crash is fixed in version 5.12 of the app; please update from the store and try the attachment again.",
         "the app crashing on {device}"),
        ("Search returns nothing for tickets older than {month}.",
         "Search covers the last 12 months on {plan}. Older tickets are still there: open **Archive** and search from there.",
         "search missing tickets before {month}"),
        ("The dashboard is blank in {browser} but works in other browsers.",
         "A blank dashboard in {browser} is usually an extension blocking our scripts. Try a private window; if that works, allow app.acme.example in your blocker.",
         "a blank dashboard in {browser}"),
        ("Notifications arrive twice since the last update.",
         "Duplicates come from having both email and push enabled for the same event. Check **Profile → Notifications**.",
         "duplicate notifications"),
        ("I keep getting error {code} when saving a view.",
         "I've logged {code} with our engineers (ticket #{ticket}). Meanwhile, saving the view under a new name works around it.",
         "error {code} when saving a view"),
        ("The page freezes when a ticket has more than {n} comments.",
         "Thanks, that's a known issue with very long tickets; a fix ships next week. Collapsing older comments keeps the page responsive until then.",
         "freezes on tickets with {n}+ comments"),
    ),
    "howto": (
        ("How do I set up an auto-reply outside business hours?",
         "Create an automation under **Admin → Automations**: trigger *Ticket created*, condition *Outside business hours*, action *Send auto-reply*.",
         "an out-of-hours auto-reply"),
        ("Can I make a view with only urgent tickets assigned to my team?",
         "Yes: create a view filtered on *Priority is Urgent* and *Assignee team is My team*, then pin it to your sidebar.",
         "a view of urgent team tickets"),
        ("How do I add a custom field to the ticket form?",
         "Go to **Admin → Ticket fields → Add field**, pick the type and drag it onto the form.",
         "adding a custom ticket field"),
        ("Is there a keyboard shortcut to close a ticket?",
         "Press `Ctrl+Shift+C` (or `⌘+Shift+C` on Mac) to close the current ticket.",
         "keyboard shortcuts"),
        ("How do I set SLA targets per customer tier on {plan}?",
         "Under **Admin → SLAs**, create one policy per tier and use the condition *Organization tag is …* to apply it.",
         "SLA targets per tier on {plan}"),
    ),
}
# EU customers write in their own language: (language, topic, question, answer).
LOCAL_CASES = (
    ("de", "billing", "Hallo, ich kann meine Rechnung für {month} nicht herunterladen.",
     "Rechnungen finden Sie unter **Einstellungen → Abrechnung → Verlauf**; dort auf **PDF herunterladen** klicken.",
     "downloading the {month} invoice (German)"),
    ("de", "integrations", "Die {integration}-Integration synchronisiert seit gestern nicht mehr. Fehler {code}.",
     "{code} bedeutet, dass das {integration}-Token abgelaufen ist. Bitte unter **Einstellungen → Integrationen** neu verbinden.",
     "{integration} sync failing with {code} (German)"),
    ("fr", "account", "Bonjour, je n'arrive plus à me connecter depuis la mise à jour.",
     "Désolé pour le désagrément ! Essayez depuis une fenêtre privée ; si le problème persiste, je transmets à notre équipe.",
     "login failing since the update (French)"),
    ("fr", "data", "Comment exporter tous les tickets de {month} en CSV ?",
     "Allez dans **Rapports → Export**, choisissez la période {month} et le format CSV.",
     "exporting {month} tickets (French)"),
    ("es", "bug", "La app se cierra al abrir un adjunto en mi {device}.",
     "¡Gracias por avisarnos! El fallo está corregido en la versión 5.12; actualice la app y vuelva a intentarlo.",
     "the app crashing on {device} (Spanish)"),
    ("nl", "billing", "Waarom is onze factuur in {month} hoger? Er is niets veranderd.",
     "De verhoging in {month} komt door de jaarlijkse prijsaanpassing (+6%). Het overzicht staat op pagina 2 van de factuur.",
     "a higher bill in {month} (Dutch)"),
)
OPENERS = ("", "", "", "Hi, ", "Hello! ", "hey ", "Good morning, ", "Hi team, ")
CLOSERS = ("", "", "", " Thanks!", " thx", " Any help appreciated.", " This is urgent, we have a demo tomorrow.", " 🙏")
ANSWER_OPENERS = ("", "", "Thanks for reaching out! ", "Happy to help. ", "Sorry about the trouble. ")
ANSWER_CLOSERS = ("", " Let me know if that works.", " If it still fails, reply here and I'll open a ticket for our team.", " Anything else I can help with?")
# Padding that makes a too-long answer run into max_tokens.
RAMBLE = " To be thorough, here are some other things worth checking: your workspace settings, your browser version, any recent changes by other admins, and whether the problem also happens for other members of your team, because"

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I can't help with that request. Please contact billing@acme.example.",
    "I'm not able to discuss account or billing details in this chat.",
    "I'm sorry, but I can't assist with that. Is there anything else I can help you with?",
)
TOOL_CALLS = {
    "billing": ("lookup_invoice", "invoice_id", "{invoice}"),
    "account": ("get_account_status", "email", "user@{domain}"),
    "integrations": ("get_integration_status", "integration", "{integration}"),
    "data": ("get_export_job", "job_id", "exp_{ticket}"),
    "bug": ("create_ticket", "severity", "high"),
    "howto": ("search_help_center", "query", "{topic}"),
}
CATEGORIES = {"billing": "billing", "account": "account_access", "integrations": "integrations",
              "data": "data_import_export", "bug": "bug_report", "howto": "how_to"}
ACTIONS = ("asked for a screenshot", "sent the help-center article", "reset the integration token",
           "escalated to tier 2", "issued a refund", "reproduced the problem")
STATUSES = ("resolved", "waiting on customer", "escalated", "open")
SUMMARY_FORMS = (
    "Customer on {plan} reports {issue}. Agent {action}. Status: {status}.",
    "- Issue: {issue}\n- Done: agent {action}\n- Status: {status}\n- Sentiment: {sentiment}",
    "{plan} customer, {n} messages. Problem: {issue}. The agent {action}; status is {status}.",
)
AGENT_LINES = ("Could you send a screenshot?", "Thanks, checking with the team.", "Can you try a private window?",
               "I've escalated this to tier 2.", "Which version of the app are you on?")
PASTE_LINES = ("2026-11-19T01:12:44Z WARN sync worker=7 retry=3 upstream=jira status=409 conflict on issue ACME-",
               "2026-11-19T01:12:45Z ERROR sync worker=2 payload too large (8.1 MB) for webhook wh_")

# Model output is untrusted: some of it contains Rich markup or terminal escape sequences.
HOSTILE_SNIPPETS = (
    "[bold red]URGENT[/bold red] ", "[link=http://x]click[/link] ", "\x1b[31m", "\x1b[2J", "\x1b]0;pwned\x07",
    "[/] ", "\x1b]8;;http://evil.example\x07click here\x1b]8;;\x07 ", "\x1b[1A\x1b[2K", "[blink]",
)

PROMPT_TEMPLATES = {
    ("support-answer", "v6"): "You are Acme Helpdesk. Answer the customer's email politely. Context: {{context}}",
    ("support-answer", "v7"): "You are Acme Helpdesk, a friendly support agent for Acme. Use only the help-center context. Be concise. Context: {{context}}",
    ("support-answer", "v8"): "You are Acme Helpdesk. Follow the Acme Support Policy strictly. Never discuss billing, accounts or security; refuse if unsure. Context: {{context}}",
    ("ticket-classifier", "v3"): "Classify the ticket. Reply with JSON: category, priority, sentiment. Ticket: {{ticket}}",
    ("ticket-classifier", "v4"): "Classify the ticket. Reply with JSON only (no prose): category, priority, needs_human, confidence. Ticket: {{ticket}}",
    ("summarize-thread", "v1"): "Summarize this support thread for a human agent. Thread: {{thread}}",
    ("summarize-thread", "v2"): "Summarize this support thread for a human agent in three lines: issue, what was done, status. Thread: {{thread}}",
}
# Someone hot-edited v2 in one region without bumping its version: the template drifted.
DRIFTED_TEMPLATES = {
    ("summarize-thread", "v2"): "Summarize this support thread for a human agent in three lines: issue, what was done, status. Mention the customer's plan. Thread: {{thread}}",
}


@dataclass(frozen=True)
class Exchange:
    """One customer question with the answer a good prompt gives and how a summary names it."""

    topic: str
    language: str
    question: str
    answer: str
    issue: str
    fill: dict


def slots(rng: random.Random) -> dict:
    return {
        "plan": rng.choice(PLANS), "integration": rng.choice(INTEGRATIONS), "device": rng.choice(DEVICES),
        "browser": rng.choice(BROWSERS), "month": rng.choice(MONTHS), "code": rng.choice(ERROR_CODES),
        "country": rng.choice(COUNTRIES), "invoice": f"INV-2026-{rng.randint(1, 9999):04d}",
        "seats": rng.randint(3, 250), "row": rng.randint(2, 4000), "hours": rng.randint(3, 30),
        "n": rng.randint(200, 900), "ticket": rng.randint(40000, 99999),
        "domain": rng.choice(("globex.com", "initech.io", "hooli.xyz")),
    }


def exchange(rng: random.Random, region: str) -> Exchange:
    fill = slots(rng)
    if region == "eu-west-1" and rng.random() < 0.12:
        language, topic, question, answer, issue = rng.choice(LOCAL_CASES)
    else:
        language, topic = "en", rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        question, answer, issue = rng.choice(CASES[topic])
        question = rng.choice(OPENERS) + question + rng.choice(CLOSERS)
    return Exchange(topic, language, question.format(**fill), answer.format(**fill), issue.format(**fill), fill)


def answer(rng: random.Random, ex: Exchange) -> str:
    if ex.language != "en":
        return ex.answer
    opener = "" if ex.answer.startswith("Thanks") else rng.choice(ANSWER_OPENERS)
    return opener + ex.answer + rng.choice(ANSWER_CLOSERS)


def truncated_answer(rng: random.Random, ex: Exchange) -> str:
    """An answer cut off mid-sentence, as when the model hits max_tokens."""
    text = ex.answer + RAMBLE
    return text[: rng.randint(len(text) - 120, len(text) - 5)].rstrip()


def refusal(rng: random.Random) -> str:
    return rng.choice(REFUSALS)


def tool_call(ex: Exchange) -> str:
    name, arg, value = TOOL_CALLS[ex.topic]
    return json.dumps({"tool": name, "arguments": {arg: value.format(topic=ex.issue, **ex.fill)}},
                      ensure_ascii=False, separators=(",", ":"))


def classification(rng: random.Random, ex: Exchange, version: str, valid: bool) -> str:
    """The ticket-classifier's JSON reply; `valid=False` gives the broken JSON models sometimes emit."""
    priority = rng.choices(("low", "normal", "high", "urgent"), (20, 50, 22, 8))[0]
    obj = {"category": CATEGORIES[ex.topic], "priority": priority}
    if version == "v3":
        obj["sentiment"] = rng.choice(("negative", "neutral", "neutral", "positive"))
    else:
        obj.update(language=ex.language, needs_human=priority in ("high", "urgent"),
                   confidence=round(rng.uniform(0.55, 0.99), 2))
    text = json.dumps(obj)
    if valid:
        return text
    broken = (
        lambda: "```json\n" + text + "\n```",
        lambda: text[:-1] + ",}",
        lambda: text.replace('"', "'").replace("true", "True").replace("false", "False"),
        lambda: "Sure! Here is the classification:\n" + text,
        lambda: text[: rng.randint(10, len(text) - 3)],
    )
    return rng.choice(broken)()


def thread(rng: random.Random, ex: Exchange) -> tuple[str, int]:
    """A support thread as the logger keeps it (its start only) and its message count."""
    messages = rng.randint(3, 14)
    text = f"Thread #{ex.fill['ticket']} ({messages} messages)\nCustomer: {ex.question}\nAgent: {rng.choice(AGENT_LINES)}\n…"
    return text, messages


def summary(rng: random.Random, ex: Exchange, messages: int) -> str:
    return rng.choice(SUMMARY_FORMS).format(
        plan=ex.fill["plan"], issue=ex.issue, action=rng.choice(ACTIONS), status=rng.choice(STATUSES),
        n=messages, sentiment=rng.choice(("frustrated", "neutral", "calm")))


def huge_paste(rng: random.Random, total_chars: int) -> str:
    """A message with a pasted log export; the app's logger keeps only its start."""
    lines = "\n".join(line + str(rng.randint(100, 9999)) for line in PASTE_LINES)
    return f"why does sync keep failing?? full export below\n{lines}\n… [truncated by logger, {total_chars:,} chars]"


def make_hostile(rng: random.Random, text: str) -> str:
    """Insert Rich markup or an escape sequence into a model output at a word boundary."""
    snippet = rng.choice(HOSTILE_SNIPPETS)
    spaces = [i for i, ch in enumerate(text) if ch == " "] or [0]
    cut = rng.choice(spaces)
    return text[:cut] + " " + snippet + text[cut:].lstrip()


def paste_with_ansi(text: str) -> str:
    """Users paste coloured terminal output into the chat too."""
    return text + "\nthe CLI prints: \x1b[31merror\x1b[0m: token expired (\x1b[1mAUTH-401\x1b[0m)"


# (error_type, message, latency range ms) per provider, worded as the official SDKs word them.
ERRORS = {
    "openai": {
        "RateLimitError": ("Error code: 429 - {{'error': {{'message': 'Rate limit reached for {model} in organization org-Acm3Xh1pd35k on tokens per min (TPM): Limit 2000000, Used 1998211, Requested {tokens}. Please try again in 93ms. Visit https://platform.openai.com/account/rate-limits to learn more.', 'type': 'tokens', 'param': None, 'code': 'rate_limit_exceeded'}}}}", (60, 400)),
        "InternalServerError": ("Error code: 500 - {{'error': {{'message': 'The server had an error while processing your request. Sorry about that!', 'type': 'server_error', 'param': None, 'code': None}}}}", (300, 2500)),
        "APITimeoutError": ("Request timed out.", (30000, 30040)),
        "APIConnectionError": ("Connection error.", (40, 3000)),
        "BadRequestError": ("Error code: 400 - {{'error': {{'message': \"This model's maximum context length is 128000 tokens. However, your messages resulted in {tokens} tokens. Please reduce the length of the messages.\", 'type': 'invalid_request_error', 'param': 'messages', 'code': 'context_length_exceeded'}}}}", (90, 300)),
    },
    "anthropic": {
        "RateLimitError": ("Error code: 429 - {{'type': 'error', 'error': {{'type': 'rate_limit_error', 'message': 'This request would exceed the rate limit for your organization (5b1e6f0c-3d2a-4c8e-9a71-acme00000001) of 400,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.'}}}}", (60, 400)),
        "InternalServerError": ("Error code: 529 - {{'type': 'error', 'error': {{'type': 'overloaded_error', 'message': 'Overloaded'}}}}", (300, 2500)),
        "APITimeoutError": ("Request timed out.", (30000, 30040)),
        "APIConnectionError": ("Connection error.", (40, 3000)),
        "BadRequestError": ("Error code: 400 - {{'type': 'error', 'error': {{'type': 'invalid_request_error', 'message': 'prompt is too long: {tokens} tokens > 200000 maximum'}}}}", (90, 300)),
    },
}


def error_message(provider: str, error_type: str, model: str, tokens: int) -> str:
    return ERRORS[provider][error_type][0].format(model=model, tokens=tokens)
