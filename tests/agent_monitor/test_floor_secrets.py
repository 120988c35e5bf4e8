"""The secrets a floor's nodes must share (:func:`agent_monitor.accounts.secrets.unshared_on_floor`):
named when a floor node would make its own, never for one server or for secrets given."""

from __future__ import annotations

from pydantic import SecretStr

from agent_monitor.accounts.secrets import unshared_on_floor
from agent_monitor.settings import Settings

KEY = (
    "web.secret_key is not set: a session signed on this node is refused by the floor's other nodes"
    " (give every node the same web.secret_key)"
)
TOKEN = (
    "web.ingest_token is not set: this node's token differs from the floor's other nodes'"
    " (give every node the same web.ingest_token)"
)


def _node(settings: Settings, role: str, **web: str) -> Settings:
    cluster = settings.cluster.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0", "role": role})
    given = {name: SecretStr(value) for name, value in web.items()}
    return settings.model_copy(update={"cluster": cluster, "web": settings.web.model_copy(update=given)})


def test_a_floor_node_names_the_secrets_it_would_make_for_itself(settings: Settings) -> None:
    bare = settings.model_copy(
        update={"web": settings.web.model_copy(update={"secret_key": None, "ingest_token": None})}
    )
    assert unshared_on_floor(bare) == []  # one server: its own secrets are the only ones
    assert unshared_on_floor(_node(bare, "analysis")) == [KEY, TOKEN]
    assert unshared_on_floor(_node(bare, "web")) == [KEY]  # a web node takes no ingest
    both = {"secret_key": "k" * 32, "ingest_token": "t" * 16}
    assert unshared_on_floor(_node(bare, "all", **both)) == []
    assert unshared_on_floor(_node(bare, "all", ingest_token="t" * 16)) == [KEY]
