"""Duban's engine: workflow runtime (SpiffWorkflow, hidden in engine.bpmn), domain and persistence."""
from pathlib import Path

# The processes shipped with Duban (duban_main.bpmn, duban_extension.bpmn), their forms (forms/) and the
# Word templates of their documents (templates/): package data, so an installed Duban carries them
# (`duban deploy --bundled`); `bpmn/` in a checkout is a link to this folder.
PROCESSES = Path(__file__).resolve().parent / "processes"
