"""When a task may be retried: I/O faults yes, a user's bad input never."""

from __future__ import annotations

from typing import Any

from models.errors import CampaignError


def retry_unless_user_error(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retrying cannot fix a bad file or an unknown code."""
    try:
        state.result()
    except CampaignError:
        return False
    except Exception:
        return True
    return True
