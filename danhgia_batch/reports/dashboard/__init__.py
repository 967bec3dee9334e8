"""The static HTML dashboard of a period (issue 20); see :mod:`.page`."""

from .base import DashboardPage, display_state
from .page import write_dashboard

__all__ = ["DashboardPage", "display_state", "write_dashboard"]
