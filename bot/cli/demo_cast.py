"""Who is in the demo's story: six sample experts with different channels and safe hours,
and the details of the engagements they are invited to. Made-up people and places only."""

from __future__ import annotations

from datetime import date
from typing import Any

DETAILS = {
    "purpose": "Help shape how a new support service answers people the first time they call.",
    "objectives": "Hear what made first contact easier or harder.",
    "expected_outcomes": "A short list of changes the service will try this spring.",
    "venue_name": "Leith Community Centre",
    "venue_address": "12 Example Street, Edinburgh EH6 1AA",
    "venue_accessibility": "Step-free entrance, accessible toilet, a quiet room to take a break.",
    "meeting_point": "Sam will meet you at the front door.",
    "practitioners": "Two people from the design team and Sam.",
    "transport_and_expenses": "Bus or taxi fares, childcare and lunch are paid.",
    "how_to_claim": "Give Sam your receipts on the day, or tell Sam what you spent.",
    "paperwork": "A one-page summary is posted a week before.",
}


def sample_experts(confirmed: date) -> list[dict[str, Any]]:
    base = {
        "link_worker": "sam@example.org",
        "consent_confirmed_on": confirmed,
        "consent_confirmed_by": "sam@example.org",
    }
    return [
        {
            **base,
            "ref": "EX-01",
            "preferred_name": "Ana",
            "preferred_channel": "sms",
            "fallback_channels": "email",
            "phone": "07123 456781",
            # Texts are not safe for details (someone else may see her phone); email is.
            "email": "ana@example.net",
            "consent": {"sms": {"allowed": True}, "email": {"allowed": True, "details_safe": True}},
        },
        {
            **base,
            "ref": "EX-02",
            "preferred_name": "Ben",
            "preferred_channel": "telegram",
            "telegram_chat_id": "5550002",
            "consent": {"telegram": {"allowed": True, "details_safe": True}},
            "windows": [{"days": "mon-fri", "hours": "10:00-18:00"}],
        },
        {
            **base,
            "ref": "EX-03",
            "preferred_name": "Cara",
            "preferred_channel": "email",
            "email": "cara@example.net",
            "consent": {"email": {"allowed": True, "details_safe": True}},
            "windows": [{"days": "mon-fri", "hours": "09:00-17:00"}],
        },
        {
            **base,
            "ref": "EX-04",
            "preferred_name": "Dev",
            "preferred_channel": "letter",
            "postal_address": "Flat 2; 8 Sample Road; Dundee DD1 1AA",
            "discreet": False,
            "access_needs": "large_print",
            "consent": {"letter": {"allowed": True, "details_safe": True}},
        },
        {
            **base,
            "ref": "EX-05",
            "preferred_name": "Eilidh",
            "preferred_channel": "phone",
            "phone": "07123 456785",
            "consent": {"phone": {"allowed": True}},
            "windows": [{"days": "tue,thu", "hours": "13:00-15:00"}],
        },
        {
            **base,
            "ref": "EX-06",
            "preferred_name": "Fin",
            "preferred_channel": "sms",
            "fallback_channels": "email",
            "phone": "07123 456786",
            "email": "fin@example.net",
            "consent": {"sms": {"allowed": True}},
            "windows": [{"days": "every day", "hours": "18:00-20:00"}],
            "pastoral_level": "fortnightly",
        },
    ]
