"""Background work: the timer scheduler and Dramatiq actors that fire timers."""
