import pytest

from bot.bootstrap import App
from tests.builders import add_engagement, add_expert

# Encrypted and UTC columns round-trip on both databases.
pytestmark = pytest.mark.db_contract


async def test_an_engagement_with_an_invited_expert_gets_a_contact_plan(app: App) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
    assert engagement.invitations[0].expert_id == expert.id
