import sys

from agent_monitor.cli import entry

sys.exit(entry())
