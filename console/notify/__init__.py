"""Alert delivery: `check` posts when an alert starts and when it clears, to webhooks.

One message per episode, not one per run: what each webhook was told is kept in the store
(`state.py`), so a run posts only the changes since the last one; a message a webhook refused
stays pending, is reported, and is posted again by the next run (`delivery.py`); bodies are
Slack's incoming-webhook `text` and `blocks`, or the alert as JSON (`messages.py`).
"""

from console.notify.delivery import Delivery, DeliveryPolicy, deliver_alerts
from console.notify.state import pending_failures

__all__ = ["Delivery", "DeliveryPolicy", "deliver_alerts", "pending_failures"]
