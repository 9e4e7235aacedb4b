"""Built-in connectors (内置连接器): the installation's notification channels and HTTP endpoints, run by
Duban's own workers as external tasks on reserved topics (engine/services/connectors.py)."""
