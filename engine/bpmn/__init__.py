"""Everything that touches SpiffWorkflow: parsing and checking BPMN, the runtime, timers, the sandbox and
the step processes. Only this package imports SpiffWorkflow."""
