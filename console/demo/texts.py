"""Text corpora for the Acme Helpdesk demo story: questions, answers, JSON, summaries, errors.

Acme sells a ticketing SaaS; "Acme Helpdesk" is its support chat, backed by three prompts.
Every function takes the caller's seeded `random.Random`, so the story stays reproducible.
Texts are as short as real chat turns (a question in a sentence or two, an answer in two or
three): the committed sample logs hold 10,000 of them and must stay under 5 MB.
"""

from __future__ import annotations

import json
import random
import string
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
SLOTS = {  # how each {slot} of the texts below is filled
    "plan": lambda rng: rng.choice(PLANS), "integration": lambda rng: rng.choice(INTEGRATIONS),
    "device": lambda rng: rng.choice(DEVICES), "browser": lambda rng: rng.choice(BROWSERS),
    "month": lambda rng: rng.choice(MONTHS), "code": lambda rng: rng.choice(ERROR_CODES),
    "country": lambda rng: rng.choice(COUNTRIES), "invoice": lambda rng: f"INV-2026-{rng.randint(1, 9999):04d}",
    "seats": lambda rng: rng.randint(3, 250), "row": lambda rng: rng.randint(2, 4000),
    "hours": lambda rng: rng.randint(3, 30), "n": lambda rng: rng.randint(200, 900),
    "ticket": lambda rng: rng.randint(40000, 99999),
    "domain": lambda rng: rng.choice(("globex.com", "initech.io", "hooli.xyz")),
}

# (question, answer, issue as a summary names it), sharing slots filled by `exchange()`.
CASES = {
    "billing": (
        ("I was charged twice for {plan} this month. Can you refund one?",
         "The second charge on {invoice} is a pending authorization. Your bank releases it within 3–5 days.",
         "a duplicate charge on {invoice}"),
        ("How do I add our VAT number to invoices? We're in {country}.",
         "Add it under **Settings → Billing → Tax details**. It shows on invoices from the next cycle.",
         "adding a VAT number ({country})"),
        ("Can I switch to annual billing and keep the {plan} discount?",
         "Yes, the discount carries over. Use **Billing → Change cycle**; unused days are credited.",
         "switching {plan} to annual billing"),
        ("Our card got declined but the bank says nothing was blocked.",
         "That is usually a 3-D Secure timeout. Retry and approve the prompt in your banking app.",
         "a declined card"),
        ("We downgraded to {plan} but were billed for {seats} seats.",
         "Seats are billed at the month's peak, so {seats} still counted. Removing inactive members lowers the next invoice.",
         "billing for {seats} seats after a downgrade"),
        ("Where can I download invoice {invoice} as a PDF?",
         "Open **Settings → Billing → History**, click {invoice}, then **Download PDF**.",
         "finding invoice {invoice}"),
        ("Why did our bill go up in {month}?",
         "{month} includes the yearly price adjustment (+6% on {plan}). Page 2 of the invoice has the breakdown.",
         "a higher bill in {month}"),
    ),
    "account": (
        ("The password reset email never arrives (checked spam).",
         "It comes from no-reply@acme.example, so allow-list that address and request a new link. Links expire after 30 minutes.",
         "missing password reset emails"),
        ("How do I enable Okta SSO on our {plan} workspace?",
         "SSO is on Business and Enterprise. In **Admin → Security → SSO**, pick SAML and paste Okta's metadata URL.",
         "setting up Okta SSO on {plan}"),
        ("Lost my phone and can't get past 2FA.",
         "Sign in with a backup code. Without one, a workspace admin can reset your 2FA under **Admin → Members**.",
         "a lost 2FA device"),
        ("How do I remove a user who left? She was our only admin.",
         "Promote someone else to admin first, then deactivate her. Her tickets stay assigned until you reassign them.",
         "removing the only admin"),
        ("I get '{code}: session expired' every few minutes in {browser}.",
         "That is usually a blocked cookie. Allow cookies for app.acme.example in {browser} and sign in again.",
         "sessions expiring in {browser} ({code})"),
        ("How do I transfer workspace ownership to a colleague?",
         "The owner can do it under **Admin → Workspace → Owner**. The new owner has 7 days to accept.",
         "transferring workspace ownership"),
        ("Please delete my account and all my data (GDPR).",
         "Your request is registered. Everything is erased within 30 days, backups included.",
         "a GDPR deletion request"),
    ),
    "integrations": (
        ("{integration} stopped syncing yesterday, error {code}.",
         "{code} means the {integration} token expired. Reconnect it in **Settings → Integrations**; sync resumes in minutes.",
         "{integration} sync failing with {code}"),
        ("Can I connect {integration} to one project only?",
         "Yes: when connecting {integration}, choose **Selected projects** instead of **All projects**.",
         "scoping {integration} to one project"),
        ("Our webhooks return 401 since we rotated the API key.",
         "Webhooks are signed with the key, so update the secret in your receiver too. Old signatures stop working at once.",
         "webhooks failing after a key rotation"),
        ("What's the API rate limit on {plan}? We keep getting 429s.",
         "{plan} allows 600 requests a minute. The batch endpoint counts 100 items as one request.",
         "API rate limits on {plan}"),
        ("Can {integration} alerts go to a private channel?",
         "Yes. Invite the Acme app to the channel first, then pick it in the {integration} settings.",
         "{integration} alerts in a private channel"),
    ),
    "data": (
        ("How do I export all {month} tickets to CSV?",
         "Go to **Reports → Export**, pick {month} and CSV. We email you when the file is ready.",
         "exporting {month} tickets"),
        ("CSV import fails at row {row}: 'invalid date format'.",
         "The importer wants ISO dates like 2026-11-03. Fix the date in row {row} and upload again.",
         "a CSV import failing at row {row}"),
        ("Our export has been 'processing' for {hours} hours.",
         "That's too long, sorry. I've restarted the job; you'll get an email within the hour.",
         "an export stuck for {hours} hours"),
        ("Where is our data stored? We need EU residency.",
         "EU workspaces keep all data in Frankfurt and Dublin. Check yours under **Admin → Data residency**.",
         "EU data residency"),
    ),
    "bug": (
        ("The app crashes when I open an attachment on my {device}.",
         "That crash is fixed in app version 5.12. Please update from the store and try again.",
         "the app crashing on {device}"),
        ("Search finds nothing older than {month}.",
         "Search covers 12 months on {plan}. Older tickets are under **Archive**, searchable there.",
         "search missing tickets before {month}"),
        ("Dashboard is blank in {browser}, fine in other browsers.",
         "Probably an extension blocking our scripts. Try a private window; if that works, allow app.acme.example.",
         "a blank dashboard in {browser}"),
        ("Notifications arrive twice since the last update.",
         "You likely have email and push on for the same event. Check **Profile → Notifications**.",
         "duplicate notifications"),
        ("I keep getting error {code} when saving a view.",
         "I've reported {code} to engineering (#{ticket}). Saving under a new name works meanwhile.",
         "error {code} when saving a view"),
        ("The page freezes on tickets with {n}+ comments.",
         "Known issue, the fix ships next week. Collapsing older comments helps until then.",
         "freezes on tickets with {n}+ comments"),
    ),
    "howto": (
        ("How do I set up an auto-reply outside business hours?",
         "Add an automation in **Admin → Automations**: *Ticket created*, *Outside business hours*, *Send auto-reply*.",
         "an out-of-hours auto-reply"),
        ("Can I have a view with only my team's urgent tickets?",
         "Yes: filter on *Priority is Urgent* and *Team is mine*, then pin the view.",
         "a view of urgent team tickets"),
        ("How do I add a custom field to the ticket form?",
         "Go to **Admin → Ticket fields → Add field**, then drag it onto the form.",
         "adding a custom ticket field"),
        ("Is there a keyboard shortcut to close a ticket?",
         "Yes: `Ctrl+Shift+C`, or `⌘+Shift+C` on a Mac.",
         "keyboard shortcuts"),
        ("How do I set SLA targets per customer tier on {plan}?",
         "Create one policy per tier under **Admin → SLAs** and match it on the organization tag.",
         "SLA targets per tier on {plan}"),
    ),
}
# EU customers write in their own language: (language, topic, question, answer, issue).
LOCAL_CASES = (
    ("de", "billing", "Hallo, ich kann meine Rechnung für {month} nicht herunterladen.",
     "Unter **Einstellungen → Abrechnung → Verlauf** auf **PDF herunterladen** klicken.",
     "downloading the {month} invoice (German)"),
    ("de", "integrations", "Die {integration}-Integration synchronisiert nicht mehr. Fehler {code}.",
     "{code} heißt, das {integration}-Token ist abgelaufen. Bitte unter **Einstellungen → Integrationen** neu verbinden.",
     "{integration} sync failing with {code} (German)"),
    ("fr", "account", "Bonjour, je n'arrive plus à me connecter depuis la mise à jour.",
     "Désolé ! Essayez dans une fenêtre privée ; si le problème persiste, je transmets à l'équipe.",
     "login failing since the update (French)"),
    ("fr", "data", "Comment exporter les tickets de {month} en CSV ?",
     "Allez dans **Rapports → Export**, choisissez {month} et le format CSV.",
     "exporting {month} tickets (French)"),
    ("es", "bug", "La app se cierra al abrir un adjunto en mi {device}.",
     "¡Gracias por avisar! Está corregido en la versión 5.12; actualice la app.",
     "the app crashing on {device} (Spanish)"),
    ("nl", "billing", "Waarom is onze factuur in {month} hoger?",
     "In {month} gold de jaarlijkse prijsaanpassing (+6%). Het overzicht staat op pagina 2.",
     "a higher bill in {month} (Dutch)"),
)
OPENERS = ("", "", "", "", "Hi, ", "Hello! ", "hey ", "Hi team, ")
CLOSERS = ("", "", "", "", " Thanks!", " thx", " Urgent, demo tomorrow.", " 🙏")
ANSWER_OPENERS = ("", "", "", "Thanks for reaching out! ", "Happy to help. ", "Sorry about that. ")
ANSWER_CLOSERS = ("", "", " Anything else?", " Let me know if that works.")
# Padding that makes a too-long answer run into max_tokens.
RAMBLE = " Also worth checking: your workspace settings, your browser version, recent changes by other admins, and whether"

# Later turns of a chat, mostly short: (language, message, answer).
FOLLOW_UPS = (
    ("en", "thanks, that worked!", "Glad it worked! Anything else I can help with?"),
    ("en", "ok thx", "You're welcome!"),
    ("en", "still not working", "Sorry about that. Could you send a screenshot of what you see?"),
    ("en", "Where exactly is that setting?", "Click your avatar at the top right, then **Settings**."),
    ("en", "can I talk to a human?", "Of course. I've passed this on; an agent will reply here within 2 hours."),
    ("en", "Does that apply to all our workspaces?", "Yes, it applies to every workspace on your account."),
    ("en", "how long does that take?", "Usually a few minutes, at most an hour."),
    ("en", "I already did that.", "Thanks for checking. I've opened a ticket so an engineer can look at your account."),
    ("en", "And on mobile?", "Same steps in the app: **Menu → Settings**."),
    ("en", "perfect 👍", "Great! Have a nice day."),
    ("en", "?", "Sorry, could you tell me a bit more about the problem?"),
    ("en", "It says I don't have permission.", "Only admins can change that. Ask an admin of your workspace to do it."),
    ("de", "Danke, hat geklappt!", "Gern geschehen!"),
    ("de", "Geht immer noch nicht.", "Das tut mir leid. Können Sie einen Screenshot schicken?"),
    ("fr", "Merci, ça marche !", "Avec plaisir !"),
    ("es", "¡Gracias!", "¡De nada!"),
    ("nl", "Top, bedankt!", "Graag gedaan!"),
)
_FOLLOW_UPS = {lang: tuple(f[1:] for f in FOLLOW_UPS if f[0] == lang) for lang in ("en", "de", "fr", "es", "nl")}

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
ACTIONS = ("asked for a screenshot", "sent a help article", "reset the token", "escalated to tier 2",
           "issued a refund", "reproduced the bug")
STATUSES = ("resolved", "waiting on customer", "escalated", "open")
SUMMARY_FORMS = {  # v1 writes prose; v2 asks for three lines: issue, what was done, status
    "v1": ("{plan} customer reports {issue}. Agent {action}; {status}.",
           "Customer asks about {issue}. The agent {action}. Status: {status}.",
           "{n} messages on {issue}. Agent {action}, now {status}."),
    "v2": ("Issue: {issue}\nDone: {action}\nStatus: {status}",
           "- {issue}\n- agent {action}\n- {status}"),
    "drifted": ("Issue: {issue} ({plan} plan)\nDone: {action}\nStatus: {status}",
                "Plan: {plan}\nIssue: {issue}\nDone: {action}\nStatus: {status}"),
}
PASTE_LINES = ("2026-11-19T01:12:44Z WARN sync worker=7 retry=3 upstream=jira status=409 conflict on issue ACME-",
               "2026-11-19T01:12:45Z ERROR sync worker=2 payload too large (8.1 MB) for webhook wh_")

# Model output is untrusted: some of it contains Rich markup or terminal escape sequences.
HOSTILE_SNIPPETS = (
    "[bold red]URGENT[/bold red] ", "[link=http://x]click[/link] ", "\x1b[31m", "\x1b[2J", "\x1b]0;pwned\x07",
    "[/] ", "\x1b]8;;http://evil.example\x07click here\x1b]8;;\x07 ", "\x1b[1A\x1b[2K", "[blink]",
)

# The prompts' texts as the registry holds them (console/demo/run.py writes them to prompts/);
# a record's prompt_hash is the sha256 of its version's text (normalised: no trailing blanks,
# no final newline), as console.prompts.registry computes it.
_SUPPORT_HEAD = (
    "You are Acme Helpdesk, a friendly support agent for Acme's ticketing product.\n"
    "Answer the customer's chat message in two or three sentences.\n"
    "Use only the help-center articles below; if they do not cover the question, say so and offer to open a ticket.\n"
    "Use the tools to look up invoices, accounts and integrations before answering questions about them.\n"
    "Never invent prices, dates or features.\n"
)
_SUPPORT_TAIL = "\nHelp-center context:\n{{context}}"
# v8's one new instruction line: the rollout's defect (refusals on billing and account questions).
V8_POLICY_LINE = "Follow the Acme Support Policy strictly: never discuss billing, accounts or security; refuse if unsure."
# v9, the fix: the policy narrowed to what must never be said.
V9_POLICY_LINE = "Never reveal passwords, full card numbers or another customer's data; answer billing and account questions as usual."
PROMPT_TEMPLATES = {
    ("support-answer", "v6"): (
        "You are Acme Helpdesk, answering customer emails for Acme's ticketing product.\n"
        "Reply politely, in a short email with a greeting and a sign-off.\n"
        "Use only the help-center articles below; if they do not cover the question, say so and offer to open a ticket.\n"
        + _SUPPORT_TAIL
    ),
    ("support-answer", "v7"): _SUPPORT_HEAD + _SUPPORT_TAIL,
    ("support-answer", "v8"): _SUPPORT_HEAD + V8_POLICY_LINE + "\n" + _SUPPORT_TAIL,
    ("support-answer", "v9"): _SUPPORT_HEAD + V9_POLICY_LINE + "\n" + _SUPPORT_TAIL,
    ("ticket-classifier", "v3"): (
        "Classify the support ticket below.\n"
        "Reply with JSON: category, priority, sentiment.\n"
        "\nTicket:\n{{ticket}}"
    ),
    ("ticket-classifier", "v4"): (
        "Classify the support ticket below.\n"
        "Reply with JSON only (no prose, no code fences): category, priority, needs_human, confidence.\n"
        "\nTicket:\n{{ticket}}"
    ),
    ("summarize-thread", "v1"): (
        "Summarize this support thread for a human agent.\n"
        "\nThread:\n{{thread}}"
    ),
    ("summarize-thread", "v2"): (
        "Summarize this support thread for a human agent.\n"
        "Write three lines: the issue, what was done, the status.\n"
        "\nThread:\n{{thread}}"
    ),
}
# Someone hot-edited v2 in one region without bumping its version: the template drifted.
DRIFTED_TEMPLATES = {
    ("summarize-thread", "v2"): (
        "Summarize this support thread for a human agent.\n"
        "Write three lines: the issue, what was done, the status.\n"
        "Mention the customer's plan.\n"
        "\nThread:\n{{thread}}"
    ),
}
# Front matter of each version's registry file (model and parameters; not part of the hash).
PROMPT_SETTINGS = {
    ("support-answer", "v6"): {"model": "claude-sonnet-4-5", "temperature": 0.3, "max_tokens": 600},
    ("support-answer", "v7"): {"model": "claude-sonnet-4-5", "temperature": 0.3, "max_tokens": 600},
    ("support-answer", "v8"): {"model": "claude-sonnet-4-5", "temperature": 0.3, "max_tokens": 400},
    ("support-answer", "v9"): {"model": "claude-sonnet-4-5", "temperature": 0.3, "max_tokens": 600},
    ("ticket-classifier", "v3"): {"model": "gpt-4o-mini", "temperature": 0},
    ("ticket-classifier", "v4"): {"model": "gpt-4o-mini", "temperature": 0},
    ("summarize-thread", "v1"): {"model": "gpt-4o-mini", "temperature": 0.2},
    ("summarize-thread", "v2"): {"model": "gpt-4o-mini", "temperature": 0.2},
}
# labels.toml of each prompt: which version runs where (the story's state at its end).
PROMPT_LABELS = {
    "support-answer": {"production": "v8", "candidate": "v9", "email": "v6"},
    "ticket-classifier": {"variant-a": "v3", "variant-b": "v4"},
    "summarize-thread": {"production": "v2"},
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


def _prepared(topic: str, language: str, question: str, answer: str, issue: str) -> tuple:
    templates = (question, answer, issue, TOOL_CALLS[topic][2])
    names = {name for text in templates for _, name, _, _ in string.Formatter().parse(text) if name in SLOTS}
    return topic, language, question, answer, issue, tuple(sorted(names | {"plan", "ticket"}))


# Each case with the slots its texts use (plus plan and ticket, which summaries and threads use).
_CASES = {topic: tuple(_prepared(topic, "en", *case) for case in cases) for topic, cases in CASES.items()}
_LOCAL = tuple(_prepared(topic, language, *texts) for language, topic, *texts in LOCAL_CASES)


def exchange(rng: random.Random, region: str) -> Exchange:
    if region == "eu-west-1" and rng.random() < 0.12:
        topic, language, question, answer, issue, names = rng.choice(_LOCAL)
    else:
        topic = rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
        topic, language, question, answer, issue, names = rng.choice(_CASES[topic])
        question = rng.choice(OPENERS) + question + rng.choice(CLOSERS)
    fill = {name: SLOTS[name](rng) for name in names}
    return Exchange(topic, language, question.format(**fill), answer.format(**fill), issue.format(**fill), fill)


def follow_up(rng: random.Random, ex: Exchange) -> Exchange:
    """A later turn of the chat that `ex` started: same topic, a short message and answer."""
    question, answer_text = rng.choice(_FOLLOW_UPS[ex.language])
    return Exchange(ex.topic, ex.language, question, answer_text, ex.issue, ex.fill)


def answer(rng: random.Random, ex: Exchange) -> str:
    if ex.language != "en":
        return ex.answer
    return rng.choice(ANSWER_OPENERS) + ex.answer + rng.choice(ANSWER_CLOSERS)


def truncated_answer(rng: random.Random, ex: Exchange) -> str:
    """An answer cut off mid-sentence, as when the model hits max_tokens."""
    text = ex.answer + RAMBLE
    return text[: rng.randint(len(text) - 80, len(text) - 5)].rstrip()


def refusal(rng: random.Random) -> str:
    return rng.choice(REFUSALS)


def compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def tool_call(ex: Exchange) -> str:
    name, arg, value = TOOL_CALLS[ex.topic]
    return compact({"tool": name, "arguments": {arg: value.format(topic=ex.issue, **ex.fill)}})


def classification(rng: random.Random, ex: Exchange, version: str, valid: bool) -> str:
    """The ticket-classifier's JSON reply; `valid=False` gives the broken JSON models sometimes emit."""
    priority = rng.choices(("low", "normal", "high", "urgent"), (20, 50, 22, 8))[0]
    obj = {"category": CATEGORIES[ex.topic], "priority": priority}
    if version == "v3":
        obj["sentiment"] = rng.choice(("negative", "neutral", "neutral", "positive"))
    else:
        obj.update(needs_human=priority in ("high", "urgent"), confidence=round(rng.uniform(0.55, 0.99), 2))
    text = compact(obj)
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
    text = f"Thread #{ex.fill['ticket']} ({messages} msgs)\nCustomer: {ex.question}\n…"
    return text, messages


def summary(rng: random.Random, ex: Exchange, messages: int, version: str, drifted: bool = False) -> str:
    """v1 writes prose; v2 three lines; the hot-edited v2 also names the customer's plan."""
    forms = SUMMARY_FORMS["drifted" if drifted else version]
    return rng.choice(forms).format(plan=ex.fill["plan"], issue=ex.issue, action=rng.choice(ACTIONS),
                                    status=rng.choice(STATUSES), n=messages)


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
