"""Duban's engine: workflow runtime (SpiffWorkflow, hidden in engine.bpmn), domain and persistence."""
